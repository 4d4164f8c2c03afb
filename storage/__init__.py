"""Telemetry stores (InfluxDB, embedded SQLite) and the records database (schema, migrations, repositories)."""
