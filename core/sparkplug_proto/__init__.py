"""Generated protobuf code for the Sparkplug B payload (see facmon_sparkplug_b.proto; do not edit by hand)."""
