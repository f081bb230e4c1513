import datetime as dt

import numpy as np

from device_drivers.codecs.pmd import PMD_EPOCH, decode_pmd_data, ecg_frame, encode_ecg_frame
from device_drivers.ecg_stream import EcgReassembler, ecg_to_reading, pmd_clock_offset
from device_drivers.readings import to_reading
from vitals.ids import new_msg_id
from vitals.readings import DeviceRef, EcgStrip

FS = 130.0
PERIOD = 1e9 / FS
N = 73


def _frames(count: int, start_ns: int = 10**12) -> list:  # type: ignore[type-arg]
    """Consecutive H10-like frames; frame k holds samples k*N .. k*N+N-1."""
    frames = []
    for k in range(count):
        samples = np.arange(k * N, (k + 1) * N)
        last_ns = round(start_ns + ((k + 1) * N - 1) * PERIOD)
        frames.append(ecg_frame(last_ns, samples))
    return frames


def test_contiguous_frames_no_gap() -> None:
    r = EcgReassembler(FS)
    for f in _frames(5):
        assert r.add(f) == []
    seg = r.take()
    assert seg is not None
    assert seg.samples_uv.tolist() == list(range(5 * N))
    assert seg.gaps == () and seg.start_ns == 10**12
    assert r.take() is None


def test_lost_frame_reported_as_gap() -> None:
    frames = _frames(5)
    r = EcgReassembler(FS)
    for f in frames[:2] + frames[3:]:  # frame 2 lost on the air
        r.add(f)
    seg = r.take()
    assert seg is not None
    assert seg.gaps == ((2 * N, N),)
    assert seg.missing_samples == N == r.missing_samples
    assert seg.samples_uv.size == 4 * N


def test_jitter_is_not_a_gap() -> None:
    frames = _frames(3)
    jittered = [frames[0], ecg_frame(frames[1].timestamp_ns + 9_000_000, frames[1].samples_uv)]
    r = EcgReassembler(FS)
    for f in jittered:
        r.add(f)
    seg = r.take()
    assert seg is not None and seg.gaps == ()


def test_gap_detection_continues_across_take() -> None:
    frames = _frames(4)
    r = EcgReassembler(FS)
    r.add(frames[0])
    first = r.take()
    r.add(frames[2])
    second = r.take()
    assert first is not None and second is not None
    assert second.gaps == ((0, N),)


def test_clock_going_back_closes_segment() -> None:
    frames = _frames(3)
    r = EcgReassembler(FS)
    r.add(frames[0])
    r.add(frames[1])
    closed = r.add(_frames(1, start_ns=10**9)[0])
    assert len(closed) == 1 and closed[0].samples_uv.size == 2 * N
    seg = r.take()
    assert seg is not None and seg.start_ns == 10**9 and seg.gaps == ()


def test_long_silence_closes_segment() -> None:
    r = EcgReassembler(FS, max_gap_s=5)
    r.add(_frames(1)[0])
    closed = r.add(_frames(1, start_ns=10**12 + 60 * 10**9)[0])
    assert len(closed) == 1


def test_bytes_to_strip_end_to_end() -> None:
    r = EcgReassembler(FS)
    for f in _frames(3):
        frame = decode_pmd_data(encode_ecg_frame(f))
        r.add(frame)  # type: ignore[arg-type]
    seg = r.take()
    assert seg is not None
    received = dt.datetime(2024, 5, 17, 8, 0, 0, tzinfo=dt.UTC)
    offset = dt.timedelta(days=8000)
    strip = ecg_to_reading(
        seg, msg_id=new_msg_id(), patient="p", device=DeviceRef(make="Polar", model="H10"),
        received_at=received, simulated=True, clock_offset=offset,
    )  # fmt: skip
    assert isinstance(strip, EcgStrip)
    assert strip.start == PMD_EPOCH + dt.timedelta(seconds=1000) + offset
    assert strip.samples_uv == tuple(range(3 * N)) and strip.fs_hz == FS
    same = to_reading(
        seg, msg_id=strip.msg_id, patient="p", device=strip.device, received_at=received,
        simulated=True, clock_offset=offset,
    )  # fmt: skip
    assert same == strip


def test_pmd_clock_offset() -> None:
    frame = ecg_frame(2_000_000_000, [1])
    received = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert frame.last_sample_time + pmd_clock_offset(frame, received) == received
