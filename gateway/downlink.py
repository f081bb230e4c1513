"""The cloud's retained configuration (``homerpm/v1/{gw}/down/config``), applied live.

Body (``vitals.wire.ConfigMessage.body``)::

    {"patients": {"pt-7f3a9c": {"devices": ["bp-1", "5C:F8:21:00:11:22"]}},
     "rules": {"profile": "aha", "patients": {"pt-7f3a9c": {<timezone, quiet hours,
                                                             clinician / family overrides>}}}}

``devices`` names configured devices by id or BLE address; a device not named keeps the
patient from the gateway's TOML. ``rules`` is ``edge_rules.config.parse_rules_config``'s
shape (``rule_overrides`` is accepted as its older name); without it the rules from the
TOML stay.

Every message is checked completely before anything changes (:func:`parse_body`); a
version ≤ the applied one is ignored (a retained message comes again on every
reconnect); a bad one is refused with the reason — logged, kept in ``rejects``, reported
as a ``config_rejected`` event and in the status — and the old config stays. The applied
message is stored in the outbox file (meta ``applied_config``) and re-applied on start,
so an offline restart keeps the clinic's settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from edge_rules.config import RulesConfig, parse_rules_config
from edge_rules.ruleset import RuleSet, RuleSetError
from gateway.outbox import AsyncOutbox
from vitals.ids import new_msg_id
from vitals.wire import ConfigMessage, GatewayEvent

log = logging.getLogger(__name__)

APPLIED = "applied_config"


class ConfigRejected(ValueError):
    """The downlink config cannot be applied; ``str()`` is the reason."""


@dataclass(frozen=True)
class DownlinkConfig:
    version: int
    #: device id → patient pseudonym (only the devices the message names)
    patients: Mapping[str, str]
    #: None = keep the rules from the gateway TOML
    rules: RulesConfig | None


@dataclass
class DeviceBinding:
    """One configured device, as the applier sees it: its ids and how to re-assign it."""

    device_id: str
    address: str | None
    local_patient: str
    #: set the patient on the running device source (takes effect from the next capture)
    assign: Callable[[str], None] = field(default=lambda patient: None)


def parse_body(
    message: ConfigMessage, devices: Sequence[DeviceBinding], base: RuleSet | None
) -> DownlinkConfig:
    body = message.body
    unknown = set(body) - {"patients", "rules", "rule_overrides"}
    if unknown:
        raise ConfigRejected(f"body.{sorted(unknown)[0]}: unknown field")
    if "rules" in body and "rule_overrides" in body:
        raise ConfigRejected("body: give rules or rule_overrides, not both")
    by_name: dict[str, str] = {}
    for d in devices:
        by_name[d.device_id] = d.device_id
        if d.address:
            by_name[d.address.upper()] = d.device_id
    patients_raw = body.get("patients", {})
    if not isinstance(patients_raw, Mapping):
        raise ConfigRejected("body.patients: must map patient → {devices: [...]}")
    assigned: dict[str, str] = {}
    for patient, entry in patients_raw.items():
        where = f"body.patients.{patient}"
        if not isinstance(patient, str) or not 1 <= len(patient) <= 64:
            raise ConfigRejected(f"{where}: patient pseudonym must be 1–64 characters")
        if not isinstance(entry, Mapping) or set(entry) - {"devices"}:
            raise ConfigRejected(f"{where}: must be {{devices: [...]}}")
        names = entry.get("devices", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigRejected(f"{where}.devices: must be a list of device ids or addresses")
        for name in names:
            device_id = by_name.get(name) or by_name.get(name.upper())
            if device_id is None:
                raise ConfigRejected(f"{where}.devices: {name!r} is not a device of this gateway")
            if device_id in assigned and assigned[device_id] != patient:
                raise ConfigRejected(f"{where}.devices: {name!r} is already assigned to"
                                     f" {assigned[device_id]!r}")
            assigned[device_id] = patient
    rules_body = body.get("rules", body.get("rule_overrides"))
    rules: RulesConfig | None = None
    if rules_body is not None:
        if not isinstance(rules_body, Mapping):
            raise ConfigRejected("body.rules: must be a table")
        try:
            rules = parse_rules_config(rules_body, base=base)
        except RuleSetError as exc:
            raise ConfigRejected(f"body.rules: {exc}") from None
    return DownlinkConfig(message.version, assigned, rules)


class ConfigApplier:
    """Validate, version, apply and persist downlink configs (see module docstring)."""

    def __init__(
        self,
        gateway: str,
        outbox: AsyncOutbox,
        devices: Sequence[DeviceBinding],
        *,
        base_rules: RuleSet | None,
        local_rules: RulesConfig | None,
        use_rules: Callable[[RulesConfig], None] = lambda rc: None,
    ) -> None:
        self.gateway = gateway
        self.outbox = outbox
        self.devices = list(devices)
        self.base_rules = base_rules
        self.local_rules = local_rules
        self.use_rules = use_rules
        self.version: int | None = None
        self.last_rejection: str | None = None
        self.rejected_total = 0

    async def restore(self) -> None:
        """Re-apply the config stored by an earlier run (offline restart)."""
        text = await self.outbox.get_meta(APPLIED)
        if not text:
            return
        try:
            message = ConfigMessage.model_validate_json(text)
            self._apply(parse_body(message, self.devices, self.base_rules))
            log.info("restored config version %d", message.version)
        except (ConfigRejected, ValueError) as exc:
            log.error("stored config not re-applied (%s); using the local configuration", exc)

    async def handle(self, message: ConfigMessage, raw: bytes, topic: str) -> bool:
        """Apply ``message`` if it is newer and valid; True when applied."""
        if self.version is not None and message.version <= self.version:
            log.info("config version %d ignored (applied: %d)", message.version, self.version)
            return False
        try:
            parsed = parse_body(message, self.devices, self.base_rules)
        except ConfigRejected as exc:
            await self._reject(message, str(exc), raw, topic)
            return False
        # Persist first: if we die right after, the restart applies the same config.
        await self.outbox.set_meta(APPLIED, message.model_dump_json())
        self._apply(parsed)
        log.info("applied config version %d (%d device assignments, rules %s)",
                 message.version, len(parsed.patients),
                 "replaced" if parsed.rules else "unchanged")
        return True

    def _apply(self, cfg: DownlinkConfig) -> None:
        """Nothing here can fail halfway: everything was validated by parse_body."""
        for d in self.devices:
            d.assign(cfg.patients.get(d.device_id, d.local_patient))
        rules = cfg.rules or self.local_rules
        if rules is not None:
            self.use_rules(rules)
        self.version = cfg.version

    async def _reject(self, message: ConfigMessage, reason: str, raw: bytes, topic: str) -> None:
        self.rejected_total += 1
        self.last_rejection = f"version {message.version}: {reason}"
        log.error("config version %d rejected: %s (keeping version %s)", message.version,
                  reason, self.version)
        await self.outbox.record_reject(topic, f"config rejected: {reason}", raw)
        now = datetime.now(UTC)
        await self.outbox.put_event(GatewayEvent(
            msg_id=new_msg_id(now), at=now, code="config_rejected", device=None,
            detail={"version": message.version, "reason": reason[:500],
                    "applied_version": self.version},
            simulated=False))


def rebind(target: Any, patient: str) -> None:
    """Give a running device source a new patient (DeviceTask.assignment / BleDeviceSource.who)."""
    if hasattr(target, "assignment"):
        target.assignment = replace(target.assignment, patient=patient)
    elif hasattr(target, "who"):
        target.who = replace(target.who, patient=patient)

