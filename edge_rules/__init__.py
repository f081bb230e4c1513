"""Alert rules (pure functions) and ECG analysis, run on the gateway and in the cloud."""
