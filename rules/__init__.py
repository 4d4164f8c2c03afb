"""Rules: conditions on asset telemetry, their event-time evaluation, and the ISA-18.2 alarm lifecycle."""
