"""ECG chest strap speaking Polar Measurement Data (PMD), like a Polar H10.

Control point FB005C81 (read features ``0F 05 00``; write commands; responses as
indications ``F0 <op> <type> <status> <more> [params]``) and data FB005C82 (ECG frames
``00 | ts u64 (ns since 2000-01-01, last sample) | 00 | n x int24 uV``), 130 Hz,
14-bit, ``samples_per_frame`` per notification (73 fit the MTU 232 Polar apps ask for).
While streaming the runner calls :meth:`PolarStrap.tick` every frame period; the
samples come from :class:`SyntheticEcg` or any object with ``next(n) -> int array``
(e.g. a recorded strip). ``drop_frames`` loses chosen frames "on the air" (gap tests).
Also exposes the standard Heart Rate service, as the H10 does.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import numpy as np
import numpy.typing as npt

from device_drivers.codecs.heart_rate import (
    HeartRateMeasurement,
    SensorContact,
    encode_heart_rate,
)
from device_drivers.codecs.pmd import (
    ECG_130HZ_14BIT,
    H10_ECG_HZ,
    PMD_EPOCH,
    PmdCommand,
    PmdFeatures,
    PmdMeasurementType,
    PmdOpCode,
    PmdResponse,
    PmdSettingType,
    PmdStatus,
    decode_pmd_control_point,
    ecg_frame,
    encode_ecg_frame,
    encode_pmd_control_point,
    get_settings_response,
    max_samples_per_frame,
)
from device_drivers.errors import DecodeError
from device_drivers.uuids import (
    HEART_RATE_MEASUREMENT,
    PMD_CONTROL_POINT,
    PMD_DATA,
    PMD_SERVICE,
    normalize_uuid,
)
from firmware_sim.devices.ecg_synth import SyntheticEcg
from firmware_sim.devices.gatt_model import (
    ATT_CCCD_IMPROPERLY_CONFIGURED,
    Action,
    AttError,
    Char,
    DeviceModel,
    Notify,
)

HEART_RATE_SERVICE = normalize_uuid("180d")


class SampleSource(Protocol):
    def next(self, n: int) -> npt.NDArray[np.int32]: ...


class PolarStrap(DeviceModel):
    kind = "ecg"
    manufacturer = "Polar Electro Oy"
    model_number = "H10 (HomeRPM simulated)"

    def __init__(
        self,
        source: SampleSource | None = None,
        *,
        address: str = "C0:FF:EE:00:00:03",
        name: str = "Polar H10 SIM0001",
        samples_per_frame: int = max_samples_per_frame(232),  # 73, the MTU Polar apps use
        clock: dt.datetime | None = None,
        drop_frames: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__(address=address, name=name)
        self.source: SampleSource = source or SyntheticEcg(H10_ECG_HZ)
        self.samples_per_frame = samples_per_frame
        start = clock or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self._clock0_ns = (start - PMD_EPOCH) // dt.timedelta(microseconds=1) * 1000
        self.sample_index = 0  # samples produced since power-on
        self.frames_sent = 0
        self.frame_index = 0
        self.drop_frames = drop_frames
        self.streaming = False
        self.commands: list[bytes] = []

    def primary_services(self) -> tuple[str, ...]:
        return (HEART_RATE_SERVICE, PMD_SERVICE)

    def own_chars(self) -> tuple[Char, ...]:
        return (
            Char.of(HEART_RATE_MEASUREMENT, HEART_RATE_SERVICE, "notify"),
            Char.of(PMD_CONTROL_POINT, PMD_SERVICE, "read", "write", "indicate"),
            Char.of(PMD_DATA, PMD_SERVICE, "notify"),
        )

    def read(self, uuid: str) -> bytes:
        if normalize_uuid(uuid) == PMD_CONTROL_POINT:
            return encode_pmd_control_point(PmdFeatures(bytes([0x05, 0x00])))  # ECG + ACC
        return super().read(uuid)

    def _reply(self, op: int, mtype: int, status: PmdStatus) -> Notify:
        value = PmdResponse(op, mtype, status, 0)
        return Notify(PMD_CONTROL_POINT, encode_pmd_control_point(value))

    def write(self, uuid: str, data: bytes) -> list[Action]:
        if normalize_uuid(uuid) != PMD_CONTROL_POINT:
            return super().write(uuid, data)
        if PMD_CONTROL_POINT not in self.subscribed:
            raise AttError(ATT_CCCD_IMPROPERLY_CONFIGURED, "PMD control point indications off")
        self.commands.append(bytes(data))
        try:
            command = decode_pmd_control_point(data)
        except DecodeError:
            return [self._reply(data[0] if data else 0, 0, PmdStatus.INVALID_OP_CODE)]
        if not isinstance(command, PmdCommand):
            return [self._reply(data[0], 0, PmdStatus.INVALID_OP_CODE)]
        op, mtype = int(command.op_code), command.measurement_type
        if mtype != PmdMeasurementType.ECG:
            return [self._reply(op, mtype, PmdStatus.NOT_SUPPORTED)]
        if command.op_code is PmdOpCode.GET_SETTINGS:
            value = get_settings_response(ECG_130HZ_14BIT, mtype)
            return [Notify(PMD_CONTROL_POINT, encode_pmd_control_point(value))]
        if command.op_code is PmdOpCode.STOP:
            if not self.streaming:
                return [self._reply(op, mtype, PmdStatus.ALREADY_IN_STATE)]
            self._stop()
            return [self._reply(op, mtype, PmdStatus.SUCCESS)]
        if command.op_code is PmdOpCode.START:
            asked = {s.type: s.values for s in command.settings}
            if asked.get(PmdSettingType.SAMPLE_RATE, (130,)) != (130,):
                return [self._reply(op, mtype, PmdStatus.INVALID_SAMPLE_RATE)]
            if asked.get(PmdSettingType.RESOLUTION, (14,)) != (14,):
                return [self._reply(op, mtype, PmdStatus.INVALID_RESOLUTION)]
            if self.streaming:
                return [self._reply(op, mtype, PmdStatus.ALREADY_IN_STATE)]
            if PMD_DATA not in self.subscribed:
                return [self._reply(op, mtype, PmdStatus.INVALID_STATE)]
            self.streaming = True
            self.stream_period = self.samples_per_frame / H10_ECG_HZ
            return [self._reply(op, mtype, PmdStatus.SUCCESS)]
        return [self._reply(op, mtype, PmdStatus.INVALID_OP_CODE)]

    def _stop(self) -> None:
        self.streaming = False
        self.stream_period = None

    def on_disconnect(self) -> None:
        super().on_disconnect()
        self.streaming = False

    def _timestamp_ns(self, sample_index: int) -> int:
        return self._clock0_ns + round(sample_index * 1e9 / H10_ECG_HZ)

    def tick(self) -> list[Action]:
        if not self.streaming:
            return []
        n = self.samples_per_frame
        samples = self.source.next(n)
        self.sample_index += n
        index, self.frame_index = self.frame_index, self.frame_index + 1
        if index in self.drop_frames:
            return []
        frame = ecg_frame(self._timestamp_ns(self.sample_index - 1), samples)
        self.frames_sent += 1
        actions: list[Action] = [Notify(PMD_DATA, encode_ecg_frame(frame))]
        if HEART_RATE_MEASUREMENT in self.subscribed and index % 2 == 0:
            hr = HeartRateMeasurement(70, SensorContact.DETECTED)
            actions.append(Notify(HEART_RATE_MEASUREMENT, encode_heart_rate(hr)))
        return actions
