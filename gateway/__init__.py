"""The home gateway: device tasks, pipeline, edge rules, durable outbox, MQTT uplink."""
