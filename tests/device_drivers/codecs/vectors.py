"""Test vectors from research ble.md (ids V-...), real captures marked ``real=True``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vector:
    id: str
    char: str  # 16-bit short form or full UUID
    hex: str
    real: bool
    provenance: str
    manufacturer: str | None = None
    model: str | None = None

    @property
    def payload(self) -> bytes:
        return bytes.fromhex(self.hex.replace(" ", ""))


BP = [
    Vector("V-BP5", "2A35", "1E 9C00 FF07 FF07 E307 08 09 0D 18 35 FF07 00 1000", True,
           "react-native-ble-plx issue #694, base64 HpwA/wf/B+MHCAkNGDX/BwAQAA=="),
    Vector("V-BP6", "2A35", "56 6A00 4700 0000 EA07 08 0B 12 1F 00 003F 00 0000", True,
           "Beurer BM85, derdilla ble_measurement_data_test.dart", "Beurer", "BM85"),
    Vector("V-BP4", "2A35", "16 7C00 5600 6100 E807 06 0F 11 11 1B 3300 0000", False,
           "derdilla sample data (provenance not stated)"),
    Vector("V-BP1", "2A35", "1E 8A00 5800 7800 0000 04 11 14 29 3B 3C00 01 2700", False,
           "Nordic BloodPressureMeasurementDataCallbackTest _full"),
    Vector("V-BP2", "2A35", "15 BDF0 0B00 9FF0 3C00 1200", False, "Nordic _some"),
    Vector("V-BP3", "2A35", "00 BDF0 0B00 9FF0", False, "Nordic _minimal"),
]  # fmt: skip

GLUCOSE = [
    Vector("V-GL1", "2A18", "0B 0400 E507 0A 13 08 03 23 3C00 58B0 F8 0000", True,
           "Accu-Chek Guide btsnoop, jbravo94/simple-ble-glucose-reader"),
    Vector("V-GL3", "2A18", "1B 0C00 E507 0B 0F 0C 26 28 3C00 0208 F8 4000", True,
           "Accu-Chek Guide btsnoop (LO reading)"),
    Vector("V-GL3-ctx", "2A34", "02 0C00 01", True, "Accu-Chek Guide btsnoop, context of seq 12"),
    Vector("V-GL5", "2A18", "1B 0100 E307 02 1B 0B 0A 1E FBFF 1E00 12 0501", False,
           "Nordic GlucoseMeasurementDataCallbackTest"),
    Vector("V-GL6", "2A18", "03 0300 E807 05 11 07 03 00 C4FF 67B0 11", False,
           "constructed in research (bumble simulator)"),
]  # fmt: skip

RACP = [
    Vector("RACP-all", "2A52", "01 01", True, "Accu-Chek capture: report all"),
    Vector("RACP-since", "2A52", "01 03 01 0F 00", True, "Accu-Chek capture: seq >= 15"),
    Vector("RACP-ok", "2A52", "06 00 01 01", True, "Accu-Chek capture: success"),
    Vector("RACP-none", "2A52", "06 00 01 06", True, "Accu-Chek capture: no records"),
    Vector("RACP-unsupported", "2A52", "06 00 0C 02", False, "Nordic RACP test"),
    Vector("RACP-count", "2A52", "05 00 02 01", False, "Nordic RACP test: 258 records"),
]  # fmt: skip

OTHER = [
    Vector("DT-AnD", "2A08", "DD 07 08 1A 09 0A 14", False, "A&D doc example via obniz"),
    Vector("CT-1", "2A2B", "E8 07 05 11 08 1E 00 05 00 01", False, "constructed in research"),
    Vector("HR-1", "2A37", "16 48 39 03", False, "constructed in research"),
    Vector("PMD-ECG", "fb005c82-02e7-f387-1cad-8acd2d8df0c8",
           "00 00 94 35 77 00 00 00 00 00 02 80 FF 02 80 00", False,
           "polar-ble-sdk EcgDataTest.kt"),
    Vector("PMD-start", "fb005c81-02e7-f387-1cad-8acd2d8df0c8", "02 00 00 01 82 00 01 01 0E 00",
           False, "research ble.md: start ECG on H10"),
]  # fmt: skip

ALL = BP + GLUCOSE + RACP + OTHER
