"""Engine state: a plain, JSON-serialisable value.

Everything the engine must remember between calls lives here — persistence counters, open
alerts (with their stable ``alert_id``), snoozes, pending blood-pressure confirmations, the
last reading per stream and recently seen ``msg_id`` s — so a gateway that saves it with every
outbox write and reloads it after a restart neither re-fires nor forgets an alert.

:func:`evaluate` never mutates a state it was given: it copies the few tracks it touches
(copy-on-write) into the new state it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter

#: Bump when the layout changes; :func:`state_from_json` refuses other versions loudly.
STATE_FORMAT = 1
#: How many recent msg_ids per (patient, stream) are kept to drop re-uploaded duplicates.
RECENT_IDS = 64


@dataclass(frozen=True, slots=True)
class InputRef:
    msg_id: str | None
    observable: str
    value: float
    unit: str
    measured_at: datetime
    simulated: bool
    note: str | None = None


@dataclass(slots=True)
class TierTrack:
    active: bool = False
    breach_since: datetime | None = None
    breach_count: int = 0
    clear_since: datetime | None = None
    clear_count: int = 0


@dataclass(slots=True)
class OpenAlert:
    alert_id: str
    severity: int
    raised_at: datetime
    emitted: bool = False
    emitted_severity: int | None = None
    last_emit_at: datetime | None = None
    events: int = 0
    #: Why the last change was not sent (snooze / quiet hours) — kept for the audit trail.
    held: str | None = None
    renotify: bool = False


@dataclass(frozen=True, slots=True)
class Snooze:
    severity: int
    until: datetime
    direction: str
    set_at: datetime


@dataclass(slots=True)
class Track:
    """Everything about one (patient, rule)."""

    tiers: dict[str, TierTrack] = field(default_factory=dict)
    last_end: datetime | None = None
    inputs: list[InputRef] = field(default_factory=list)
    alert: OpenAlert | None = None
    snooze: Snooze | None = None
    #: blood pressure: the first high reading awaiting its confirming re-measurement
    pending: list[InputRef] = field(default_factory=list)
    confirmed: bool = False
    clear_count: int = 0
    #: blood pressure: msg_ids of recent readings the cuff flagged "irregular pulse"
    flagged: list[str] = field(default_factory=list)

    def clone(self) -> Track:
        # explicit (not deepcopy): this runs per reading; InputRef/Snooze are immutable
        a = self.alert
        return Track(
            {k: TierTrack(t.active, t.breach_since, t.breach_count, t.clear_since, t.clear_count)
             for k, t in self.tiers.items()},
            self.last_end,
            list(self.inputs),
            None if a is None else OpenAlert(a.alert_id, a.severity, a.raised_at, a.emitted,
                                             a.emitted_severity, a.last_emit_at, a.events,
                                             a.held, a.renotify),
            self.snooze,
            list(self.pending),
            self.confirmed,
            self.clear_count,
            list(self.flagged),
        )


@dataclass(frozen=True, slots=True)
class StreamSeen:
    last_end: datetime
    msg_id: str | None
    simulated: bool


@dataclass(slots=True)
class EngineState:
    format: int = STATE_FORMAT
    #: patient → rule id → track
    tracks: dict[str, dict[str, Track]] = field(default_factory=dict)
    #: patient → stream → last reading seen
    streams: dict[str, dict[str, StreamSeen]] = field(default_factory=dict)
    #: patient → stream → recent msg_ids (oldest first); per stream so that a 1-Hz heart-rate
    #: stream cannot push a blood-pressure reading out of the window
    recent_ids: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def track(self, patient: str, rule_id: str) -> Track | None:
        return self.tracks.get(patient, {}).get(rule_id)

    def open_alerts(self) -> list[tuple[str, str, OpenAlert]]:
        """(patient, rule id, alert) for every open alert, sorted."""
        return [
            (p, r, t.alert)
            for p in sorted(self.tracks)
            for r, t in sorted(self.tracks[p].items())
            if t.alert is not None
        ]


_ADAPTER = TypeAdapter(EngineState)


class StateFormatError(ValueError):
    pass


def state_to_json(state: EngineState) -> str:
    return _ADAPTER.dump_json(state).decode()


def state_from_json(text: str | bytes) -> EngineState:
    try:
        state = _ADAPTER.validate_json(text)
    except ValueError as exc:
        raise StateFormatError(f"unreadable engine state: {exc}") from exc
    if state.format != STATE_FORMAT:
        raise StateFormatError(f"engine state format {state.format}, expected {STATE_FORMAT}")
    return state


class StateWriter:
    """Copy-on-write view over a state: the old one stays untouched."""

    def __init__(self, old: EngineState) -> None:
        self.old = old
        self.new = EngineState(
            old.format, dict(old.tracks), dict(old.streams), dict(old.recent_ids)
        )
        self._cloned: set[tuple[str, str]] = set()
        self._patients: set[str] = set()

    def read(self, patient: str, rule_id: str) -> Track | None:
        return self.new.tracks.get(patient, {}).get(rule_id)

    def write(self, patient: str, rule_id: str) -> Track:
        """The track for (patient, rule), private to the new state (created if missing)."""
        key = (patient, rule_id)
        if patient not in self._patients:
            self.new.tracks[patient] = dict(self.new.tracks.get(patient, {}))
            self._patients.add(patient)
        if key not in self._cloned:
            old = self.new.tracks[patient].get(rule_id)
            self.new.tracks[patient][rule_id] = old.clone() if old is not None else Track()
            self._cloned.add(key)
        return self.new.tracks[patient][rule_id]

    def see_stream(self, patient: str, stream: str, seen: StreamSeen) -> None:
        streams = dict(self.new.streams.get(patient, {}))
        prev = streams.get(stream)
        if prev is None or seen.last_end >= prev.last_end:
            streams[stream] = seen
            self.new.streams[patient] = streams

    def remember_id(self, patient: str, stream: str, msg_id: str) -> bool:
        """False when ``msg_id`` was seen recently (a re-upload: skip it)."""
        per_stream = self.new.recent_ids.get(patient, {})
        ids = per_stream.get(stream, [])
        if msg_id in ids:
            return False
        self.new.recent_ids[patient] = {**per_stream, stream: [*ids[-(RECENT_IDS - 1):], msg_id]}
        return True
