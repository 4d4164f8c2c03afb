"""The `facmon` command line."""

from __future__ import annotations

import argparse
import logging
import sys

from api.request_ids import LOG_FORMAT, log_request_ids
from core.errors import FacmonError
from facmon.commands import bench, deadletters, demo, devices, plan, predictor, report, rules, serve, sim, users

COMMAND_MODULES = (demo, serve, sim, rules, bench, deadletters, report, predictor, plan, devices, users)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        log_request_ids(handler)  # every line logged while serving a request names its X-Request-ID
    try:
        result: int = args.run(args)
        return result
    except FacmonError as error:
        print(f"facmon: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facmon", description="Facility monitoring and preventive maintenance.")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
