"""Benchmarks behind `facmon bench ...`, one module each; every module has ``register(benchmarks)``."""
