"""Simulated devices: GATT-exact device models and the fronts that run them."""
