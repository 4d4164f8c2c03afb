"""Domain types, wire format, settings, clock and event bus shared by every facmon package."""
