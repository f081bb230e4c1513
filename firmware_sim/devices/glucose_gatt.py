"""Glucose meter (Glucose service 0x1808 + Current Time 0x1805) as a GATT device model.

Stored records with sequence numbers, optional context (0x2A34), LO/HI results
(-INF/+INF + status bits), control-solution records, and a Record Access Control Point
(0x2A52) that answers: report stored records (all, <=, >=, range, first, last by
sequence number), report number of records, delete (optional, many meters refuse),
abort. ``reset()`` is the battery-change/factory reset: records gone, numbering restarts.
Procedures follow GLS/GLP 1.0: the RACP indication must be enabled (else ATT 0xFD), one
procedure at a time, records then ``06 00 <op> <code>``.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace

from device_drivers.codecs.date_time import (
    AdjustReason,
    CurrentTime,
    DateTime,
    decode_current_time,
    encode_current_time,
)
from device_drivers.codecs.glucose import (
    GlucoseContext,
    GlucoseFeature,
    GlucoseLocation,
    GlucoseMeasurement,
    GlucoseType,
    Meal,
    SensorStatus,
    concentration_from_mg_dl,
    encode_glucose_context,
    encode_glucose_feature,
    encode_glucose_measurement,
)
from device_drivers.codecs.numbers import Mder, MderSpecial
from device_drivers.codecs.racp import (
    RacpFilter,
    RacpNumberOfRecords,
    RacpOpCode,
    RacpOperator,
    RacpRequest,
    RacpResponse,
    RacpResponseCode,
    decode_racp,
    encode_racp,
)
from device_drivers.errors import DecodeError
from device_drivers.uuids import (
    CURRENT_TIME,
    GLUCOSE_FEATURE,
    GLUCOSE_MEASUREMENT,
    GLUCOSE_MEASUREMENT_CONTEXT,
    RECORD_ACCESS_CONTROL_POINT,
    normalize_uuid,
)
from firmware_sim.devices.gatt_model import (
    ATT_CCCD_IMPROPERLY_CONFIGURED,
    ATT_INVALID_LENGTH,
    CURRENT_TIME_SERVICE,
    Action,
    AttError,
    Char,
    DeviceModel,
    Notify,
)

GLUCOSE_SERVICE = normalize_uuid("1808")


@dataclass(frozen=True, slots=True)
class StoredGlucose:
    measurement: GlucoseMeasurement
    context: GlucoseContext | None = None


class GlucoseMeter(DeviceModel):
    kind = "glucose"

    def __init__(
        self,
        *,
        address: str = "C0:FF:EE:00:00:02",
        name: str = "HomeRPM-Glucose",
        supports_delete: bool = False,
        clock: dt.datetime | None = None,
    ) -> None:
        super().__init__(address=address, name=name)
        self.model_number = "SimMeter"
        self.records: list[StoredGlucose] = []
        self.next_sequence = 1
        self.supports_delete = supports_delete
        self.feature = (
            GlucoseFeature.LOW_BATTERY_DETECTION
            | GlucoseFeature.RESULT_HIGH_LOW_DETECTION
            | GlucoseFeature.SAMPLE_SIZE
        )
        # The meter's wall clock ticks from where it was last set (here or by a Current
        # Time write), like a real meter's, whose records are stamped by it.
        self.clock = clock or dt.datetime(2026, 1, 1, 8, 0, 0)
        self.time_writes: list[DateTime] = []
        self.requests: list[bytes] = []  # every RACP request as received, for tests

    @property
    def clock(self) -> dt.datetime:
        """Wall-clock time the meter believes it is (naive, whole seconds)."""
        set_to, set_at = self._clock_set
        return set_to + dt.timedelta(seconds=int(time.monotonic() - set_at))

    @clock.setter
    def clock(self, value: dt.datetime) -> None:
        self._clock_set = (value, time.monotonic())

    # The patient's side --------------------------------------------------------------
    def add(
        self,
        mg_dl: float | None = None,
        *,
        at: dt.datetime | None = None,
        meal: Meal | None = None,
        special: MderSpecial | None = None,
        status: SensorStatus | None = None,
        control_solution: bool = False,
        offset_min: int | None = 0,
    ) -> StoredGlucose:
        """Store a result: ``mg_dl`` or a ``special`` (-INF = LO, +INF = HI)."""
        seq = self.next_sequence
        self.next_sequence = (seq + 1) & 0xFFFF
        concentration: Mder = (
            special if special is not None else concentration_from_mg_dl(round(mg_dl or 0))
        )
        if special is MderSpecial.NEGATIVE_INFINITY:
            status = (status or SensorStatus(0)) | SensorStatus.RESULT_TOO_LOW
        elif special is MderSpecial.POSITIVE_INFINITY:
            status = (status or SensorStatus(0)) | SensorStatus.RESULT_TOO_HIGH
        sample_type, location = (
            (GlucoseType.CONTROL_SOLUTION, GlucoseLocation.CONTROL_SOLUTION)
            if control_solution
            else (GlucoseType.CAPILLARY_PLASMA, GlucoseLocation.FINGER)
        )
        measurement = GlucoseMeasurement(
            sequence=seq,
            base_time=DateTime.from_datetime(at or self.clock),
            time_offset_min=offset_min,
            concentration=concentration,
            sample_type=int(sample_type),
            sample_location=int(location),
            sensor_status=status,
            context_follows=meal is not None,
        )
        context = GlucoseContext(sequence=seq, meal=int(meal)) if meal is not None else None
        stored = StoredGlucose(measurement, context)
        self.records.append(stored)
        return stored

    def reset(self) -> None:
        """Battery change / factory reset: memory cleared, numbering restarts at 1."""
        self.records.clear()
        self.next_sequence = 1

    # GATT ----------------------------------------------------------------------------
    def primary_services(self) -> tuple[str, ...]:
        return (GLUCOSE_SERVICE,)

    def own_chars(self) -> tuple[Char, ...]:
        return (
            Char.of(GLUCOSE_MEASUREMENT, GLUCOSE_SERVICE, "notify"),
            Char.of(GLUCOSE_MEASUREMENT_CONTEXT, GLUCOSE_SERVICE, "notify"),
            Char.of(GLUCOSE_FEATURE, GLUCOSE_SERVICE, "read"),
            Char.of(RECORD_ACCESS_CONTROL_POINT, GLUCOSE_SERVICE, "write", "indicate"),
            Char.of(CURRENT_TIME, CURRENT_TIME_SERVICE, "read", "write", "notify"),
        )

    def read(self, uuid: str) -> bytes:
        uuid = normalize_uuid(uuid)
        if uuid == GLUCOSE_FEATURE:
            return encode_glucose_feature(self.feature)
        if uuid == CURRENT_TIME:
            now = self.clock
            return encode_current_time(
                CurrentTime(DateTime.from_datetime(now), now.isoweekday(), 0, AdjustReason(0))
            )
        return super().read(uuid)

    def write(self, uuid: str, data: bytes) -> list[Action]:
        uuid = normalize_uuid(uuid)
        if uuid == CURRENT_TIME:
            try:
                value = decode_current_time(data)
            except DecodeError as exc:
                raise AttError(ATT_INVALID_LENGTH, exc.reason) from exc
            self.time_writes.append(value.date_time)
            naive = value.date_time.to_naive()
            if naive is not None:
                self.clock = naive
            return []
        if uuid == RECORD_ACCESS_CONTROL_POINT:
            return self._racp(data)
        return super().write(uuid, data)

    # RACP ----------------------------------------------------------------------------
    def _response(self, op: int, code: RacpResponseCode) -> Notify:
        return Notify(RECORD_ACCESS_CONTROL_POINT, encode_racp(RacpResponse(op, code)))

    def _select(self, request: RacpRequest) -> list[StoredGlucose] | RacpResponseCode:
        operator = request.operator
        records = self.records
        if operator is RacpOperator.ALL_RECORDS:
            return list(records)
        if operator is RacpOperator.FIRST_RECORD:
            return records[:1]
        if operator is RacpOperator.LAST_RECORD:
            return records[-1:]
        if request.filter_type is not RacpFilter.SEQUENCE_NUMBER:
            return RacpResponseCode.OPERAND_NOT_SUPPORTED  # like most meters: no time filter
        bounds = [int(x) for x in request.operand if isinstance(x, int)]
        seq = [r.measurement.sequence for r in records]
        if operator is RacpOperator.GREATER_OR_EQUAL:
            return [r for r, s in zip(records, seq, strict=True) if s >= bounds[0]]
        if operator is RacpOperator.LESS_OR_EQUAL:
            return [r for r, s in zip(records, seq, strict=True) if s <= bounds[0]]
        if operator is RacpOperator.WITHIN_RANGE:
            low, high = bounds
            if low > high:
                return RacpResponseCode.INVALID_OPERAND
            return [r for r, s in zip(records, seq, strict=True) if low <= s <= high]
        return RacpResponseCode.OPERATOR_NOT_SUPPORTED

    def _racp(self, data: bytes) -> list[Action]:
        if RECORD_ACCESS_CONTROL_POINT not in self.subscribed:
            raise AttError(ATT_CCCD_IMPROPERLY_CONFIGURED, "RACP indications not enabled")
        self.requests.append(bytes(data))
        op = data[0] if data else 0
        try:
            request = decode_racp(data)
        except DecodeError:
            code = (
                RacpResponseCode.OP_CODE_NOT_SUPPORTED
                if op not in (1, 2, 3, 4)
                else RacpResponseCode.INVALID_OPERATOR
            )
            return [self._response(op, code)]
        if not isinstance(request, RacpRequest):
            return [self._response(op, RacpResponseCode.OP_CODE_NOT_SUPPORTED)]
        if request.op_code is RacpOpCode.ABORT_OPERATION:
            # Procedures run to completion inside one event here, so there is never
            # anything left to abort: the abort itself succeeds.
            return [self._response(op, RacpResponseCode.SUCCESS)]
        selected = self._select(request)
        if isinstance(selected, RacpResponseCode):
            return [self._response(op, selected)]
        if request.op_code is RacpOpCode.REPORT_NUMBER_OF_RECORDS:
            count = encode_racp(RacpNumberOfRecords(len(selected)))
            return [Notify(RECORD_ACCESS_CONTROL_POINT, count)]
        if request.op_code is RacpOpCode.DELETE_STORED_RECORDS:
            if not self.supports_delete:
                return [self._response(op, RacpResponseCode.OP_CODE_NOT_SUPPORTED)]
            doomed = {id(r) for r in selected}
            self.records = [r for r in self.records if id(r) not in doomed]
            return [self._response(op, RacpResponseCode.SUCCESS)]
        if not selected:
            return [self._response(op, RacpResponseCode.NO_RECORDS_FOUND)]
        actions: list[Action] = []
        for stored in selected:
            m = stored.measurement
            if stored.context is None and m.context_follows:
                m = replace(m, context_follows=False)
            actions.append(Notify(GLUCOSE_MEASUREMENT, encode_glucose_measurement(m)))
            if stored.context is not None and GLUCOSE_MEASUREMENT_CONTEXT in self.subscribed:
                actions.append(
                    Notify(GLUCOSE_MEASUREMENT_CONTEXT, encode_glucose_context(stored.context))
                )
        actions.append(self._response(op, RacpResponseCode.SUCCESS))
        return actions
