"""Bluetooth LE: the transport seam (bleak / in-process), device sessions, pairing agent."""
