"""Bluetooth LE device drivers: GATT codecs, quirks, the BLE transport and record download."""
