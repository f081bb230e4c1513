"""The clinician-facing HTTP API (FastAPI)."""
