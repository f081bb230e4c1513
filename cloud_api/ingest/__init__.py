"""MQTT ingest: shared-subscription workers that store batches durably, then ack."""
