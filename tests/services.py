"""Real services for the integration tests: the process-starting code lives in facmon/services.py.

It moved there so that ``facmon bench ingest`` starts Mosquitto and InfluxDB the same way (no code twice);
this module keeps the names the fixtures and tests import.
"""

from __future__ import annotations

from facmon.services import (
    INFLUXD,
    LOOPBACK,
    MOSQUITTO,
    MOSQUITTO_PASSWD,
    PG_BIN,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    InfluxDB,
    MissingBinary,
    Mosquitto,
    Postgres,
    ServiceError,
    ServiceProcess,
    TlsFiles,
    discard_service,
    free_port,
    make_service_dir,
    mqtt_answers,
    require_binary,
    start_service,
)

__all__ = ["INFLUXD", "LOOPBACK", "MOSQUITTO", "MOSQUITTO_PASSWD", "PG_BIN", "START_TIMEOUT_S", "STOP_TIMEOUT_S",
           "InfluxDB", "MissingBinary", "Mosquitto", "Postgres", "ServiceError", "ServiceProcess", "TlsFiles",
           "discard_service", "free_port", "make_service_dir", "mqtt_answers", "require_binary", "start_service"]
