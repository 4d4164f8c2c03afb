"""Fault scenario files shipped with facmon (read through importlib.resources)."""
