"""`facmon bench ...`: benchmarks, each printing one JSON object."""

from __future__ import annotations

from typing import Any

from facmon.commands import Commands


def register(commands: Commands) -> None:
    bench = commands.add_parser("bench", help="benchmarks (each prints one JSON object)")
    benchmarks = bench.add_subparsers(required=True, metavar="BENCHMARK")
    # Each benchmark module adds its own subcommand here.
    for module in _benchmark_modules():
        module.register(benchmarks)


def _benchmark_modules() -> list[Any]:
    from facmon.bench import api as api_bench
    from facmon.bench import decode as decode_bench
    from facmon.bench import ingest as ingest_bench
    from facmon.bench import maintenance as maintenance_bench
    from facmon.bench import rules as rules_bench
    from facmon.bench import scale as scale_bench
    from facmon.bench import workorders as workorders_bench

    return [ingest_bench, rules_bench, decode_bench, workorders_bench, maintenance_bench, api_bench,
            scale_bench]
