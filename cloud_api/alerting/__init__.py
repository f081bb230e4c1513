"""Clinician-side alerting: lifecycle, escalation, cloud rules and delivery channels."""
