"""The cloud: MQTT ingest workers, stores, clinician API, alert delivery, FHIR export."""
