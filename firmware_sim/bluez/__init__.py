"""Simulated devices exported as BlueZ GATT applications with LE advertisements (D-Bus)."""
