"""Simulated devices, patient scenarios, fleets and the one-command demo."""
