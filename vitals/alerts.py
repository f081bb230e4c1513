"""Alerts raised by rules, on the gateway or in the cloud.

An alert explains itself: which rule (id and version) fired, on which inputs, against
which thresholds, citing which source. HomeRPM never states a diagnosis: messages say
what was measured and which limit it crossed.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import Field, field_validator

from vitals.ids import is_msg_id
from vitals.readings import Frozen, UtcDatetime


class Severity(IntEnum):
    """Ordered: a higher value is more severe (compare with ``>``)."""

    INFO = 1
    WARNING = 2
    URGENT = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class AlertState(StrEnum):
    OPEN = "open"
    UPDATED = "updated"
    CLEARED = "cleared"


class AlertInput(Frozen):
    """One reading (or derived value) that made the rule fire."""

    msg_id: str | None = None
    observable: str
    value: float
    unit: str
    measured_at: UtcDatetime


class Alert(Frozen):
    alert_id: str = Field(description="ULID; stable across updates of the same open alert")
    msg_id: str = Field(description="ULID of this alert *event* (open, update or clear)")
    patient: str = Field(min_length=1, max_length=64)
    rule_id: str = Field(min_length=1, max_length=64)
    rule_version: str = Field(min_length=1, max_length=32)
    severity: Severity
    state: AlertState = AlertState.OPEN
    title: str = Field(max_length=200)
    explanation: str = Field(max_length=2000)
    inputs: tuple[AlertInput, ...] = ()
    thresholds: dict[str, float] = Field(default_factory=dict)
    source: str = Field(default="", max_length=500, description="guideline the threshold cites")
    raised_at: UtcDatetime
    updated_at: UtcDatetime
    cleared_at: UtcDatetime | None = None
    simulated: bool
    origin: str = Field(default="gateway", pattern="^(gateway|cloud)$")

    @field_validator("alert_id", "msg_id")
    @classmethod
    def _check_ids(cls, value: str) -> str:
        if not is_msg_id(value):
            raise ValueError("must be a 26-character ULID")
        return value
