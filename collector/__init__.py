"""MQTT ingest: subscribe, decode, validate, store and hand readings to the rules; reject with a reason."""
