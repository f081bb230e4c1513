"""BP cuff and PMD strap models, byte for byte (no transport)."""

from __future__ import annotations

import itertools

from device_drivers.codecs.bp import decode_bp_measurement
from device_drivers.codecs.pmd import decode_ecg_frame
from device_drivers.quirks import quirks_for
from device_drivers.uuids import PMD_CONTROL_POINT, PMD_DATA
from firmware_sim.devices.bp_gatt import BPM, ICP, GattBpCuff
from firmware_sim.devices.ecg_gatt import PolarStrap
from firmware_sim.devices.gatt_model import Disconnect, Notify, StopAdvertising

V_BP6 = bytes.fromhex("566A0047000000EA07080B121F00003F000000")  # real Beurer BM85 record


def test_bm85_cuff_resends_the_real_bytes() -> None:
    record = decode_bp_measurement(V_BP6, quirks_for("Beurer", "BM85"))
    cuff = GattBpCuff.beurer_bm85([record])
    actions = cuff.subscribe(BPM, True)
    assert actions[0] == Notify(BPM, V_BP6)
    assert actions[1:] == [StopAdvertising(), Disconnect()]


def test_cuff_burst_order_and_send_all_vs_new_only() -> None:
    v_bp1 = bytes.fromhex("1E8A00580078000000041114293B3C00012700")
    cuff = GattBpCuff([decode_bp_measurement(v_bp1)])
    cuff.subscribe(ICP, True)
    first = cuff.subscribe(BPM, True)
    assert [a.char for a in first if isinstance(a, Notify)] == [ICP, ICP, ICP, BPM]
    assert not cuff.advertising
    cuff.on_disconnect()
    assert [a for a in cuff.subscribe(BPM, True) if isinstance(a, Notify)] == []
    cuff.send_all = True
    assert len([a for a in cuff.subscribe(BPM, True) if isinstance(a, Notify)]) == 1


def test_strap_start_stream_stop() -> None:
    strap = PolarStrap(samples_per_frame=10)
    assert strap.read(PMD_CONTROL_POINT) == bytes.fromhex("0F0500")
    strap.subscribe(PMD_CONTROL_POINT, True)
    strap.subscribe(PMD_DATA, True)
    (reply,) = strap.write(PMD_CONTROL_POINT, bytes.fromhex("02000001820001010E00"))
    assert reply == Notify(PMD_CONTROL_POINT, bytes.fromhex("F002000000"))  # success, more=0
    assert strap.stream_period == 10 / 130
    frames = [decode_ecg_frame(a.data) for _ in range(3) for a in strap.tick()
              if isinstance(a, Notify) and a.char == PMD_DATA]
    steps = [b.timestamp_ns - a.timestamp_ns for a, b in itertools.pairwise(frames)]
    assert all(abs(s - 10 * 1e9 / 130) <= 1 for s in steps)
    (again,) = strap.write(PMD_CONTROL_POINT, bytes.fromhex("02000001820001010E00"))
    assert again.data[3] == 6  # already in state
    (stopped,) = strap.write(PMD_CONTROL_POINT, bytes.fromhex("0300"))
    assert stopped.data[:4] == bytes.fromhex("F0030000") and strap.stream_period is None
