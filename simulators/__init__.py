"""Virtual elevators, pumps and lighting circuits that publish over MQTT like real hardware."""
