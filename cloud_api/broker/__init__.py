"""Broker-side security: per-gateway MQTT credentials and ACLs for mosquitto."""
