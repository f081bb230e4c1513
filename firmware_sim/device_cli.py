"""``homerpm sim device KIND``: one simulated Bluetooth health device.

Without ``--bluez`` the device runs in-process and the gateway's own session reads it
once, printing every value (hex + decoded) — a quick look at the exact bytes. With
``--bluez`` it becomes a BlueZ peripheral (GATT application + LE advertisement) on
``--adapter`` until Ctrl-C: on a Linux box with a radio a real gateway can scan, pair
and read it; in CI it runs on the BlueZoo mock.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys

from device_drivers.ble.bp import collect_bp
from device_drivers.ble.cursors import MemoryCursorStore
from device_drivers.ble.ecg import PolarEcgStream
from device_drivers.ble.glucose import download_glucose
from device_drivers.ble.memory import MemoryTransport
from device_drivers.ble.session import collect
from device_drivers.ble.transport import BleConnection, Notification
from device_drivers.codecs.registry import decode
from device_drivers.errors import DecodeError
from device_drivers.uuids import short_name
from firmware_sim.devices.bp_cuff import SCENARIOS
from firmware_sim.devices.catalog import KINDS, add_measurement, make_model
from firmware_sim.devices.gatt_model import DeviceModel
from firmware_sim.devices.inprocess import InProcessDevice


def describe(n: Notification) -> str:
    try:
        value: object = decode(n.char_uuid, n.data)
    except (DecodeError, LookupError) as exc:
        value = f"<{exc}>"
    return f"{short_name(n.char_uuid)} {n.data.hex()} {value}"


async def _read_once(conn: BleConnection, model: DeviceModel, seconds: float) -> list[str]:
    if model.kind == "bp":
        burst = await collect_bp(conn, quiet_timeout=2)
        return [describe(r.notification) for r in burst.records]
    if model.kind == "glucose":
        download = await download_glucose(conn, MemoryCursorStore())
        return [describe(r.notification) + (f" context={r.context}" if r.context else "")
                for r in download.records]
    if model.kind == "ecg":
        lines = []
        async with PolarEcgStream(conn, segment_s=seconds) as ecg:
            async for segment in ecg.segments():
                lines.append(f"ECG segment: {segment.samples_uv.size} samples at "
                             f"{segment.fs_hz:g} Hz, gaps {list(segment.gaps)}, first 8 uV "
                             f"{segment.samples_uv[:8].tolist()}")
                break
        return lines
    chars = [c.uuid for c in model.chars() if c.flags & {"notify", "indicate"}]
    return [describe(n) for n in await collect(conn, chars, quiet_timeout=2, max_count=5)]


async def demo(model: DeviceModel, seconds: float) -> list[str]:
    async with InProcessDevice(model) as dev, MemoryTransport([dev]) as transport:
        adv = await anext(transport.advertisements())
        async with transport.connect(adv) as conn:
            return await _read_once(conn, model, seconds)


async def serve(
    model: DeviceModel, adapter: str, interval: float | None, seed: int, scenario: str
) -> None:
    from firmware_sim.bluez.peripheral import BluezDevice

    rng = random.Random(seed)
    async with BluezDevice(model, adapter=adapter) as dev:
        services = ", ".join(short_name(u) for u in model.primary_services())
        print(f"{model.name}: GATT application + advertisement ({services}) on {adapter}; "
              "Ctrl-C to stop", flush=True)
        while True:
            await asyncio.sleep(interval or 3600)
            if interval:
                now = dt.datetime.now().replace(microsecond=0)
                print(add_measurement(model, rng, now, scenario), flush=True)
                await dev.sync_advertising()


class DeviceCommand:
    help = "run one simulated BLE health device (in-process demo, or on BlueZ with --bluez)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--bluez", action="store_true",
                            help="export it as a BlueZ GATT application + LE advertisement")
        parser.add_argument("--adapter", default="hci1",
                            help="BlueZ adapter to advertise on (default hci1)")
        parser.add_argument("--records", type=int, default=3, help="stored records at start")
        parser.add_argument("--interval", type=float, default=None,
                            help="with --bluez: take a new measurement every N seconds")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--scenario", default="normal", choices=sorted(SCENARIOS),
                            help="bp: value pattern of the scenario cuff (default normal)")
        parser.add_argument("--mitbih", metavar="RECORD", default=None,
                            help="ecg: replay this MIT-BIH record (e.g. 208) from the data dir "
                                 "($HOMERPM_DATA/ecg/mitdb) instead of synthetic ECG")
        parser.add_argument("--seconds", type=float, default=5.0,
                            help="in-process ECG: length of the printed segment")

    def run(self, args: argparse.Namespace) -> int:
        try:
            model = make_model(args.kind, records=args.records, seed=args.seed,
                               ecg_record=args.mitbih, scenario=args.scenario)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.bluez:
            try:
                asyncio.run(serve(model, args.adapter, args.interval, args.seed, args.scenario))
            except KeyboardInterrupt:
                return 0
            except Exception as exc:  # D-Bus/BlueZ missing: say so, no traceback wall
                print(f"cannot run on BlueZ ({args.adapter}): {exc}", file=sys.stderr)
                return 1
            return 0
        for line in asyncio.run(demo(model, args.seconds)):
            print(line)
        return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m firmware_sim.device_cli KIND ...`` (same as ``homerpm sim device``)."""
    parser = argparse.ArgumentParser(prog="homerpm sim device", description=DeviceCommand.help)
    command = DeviceCommand()
    command.configure(parser)
    return command.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
