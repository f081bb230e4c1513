"""Virtual devices that speak the exact Bluetooth GATT bytes of real ones."""
