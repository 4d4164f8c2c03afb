"""`facmon rules ...`: rule files."""

from __future__ import annotations

import argparse
from pathlib import Path

from facmon.commands import Commands


def register(commands: Commands) -> None:
    rules = commands.add_parser("rules", help="rule files").add_subparsers(required=True, metavar="ACTION")
    check = rules.add_parser("check", help="validate rule files and list their rules")
    check.add_argument("files", type=Path, nargs="+")
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    from rules.pack import load_rules

    for path in args.files:
        rules = load_rules(path)
        print(f"{path}: {len(rules)} rules OK")
        for rule in rules:
            kinds = ",".join(sorted(rule.applies_to))
            print(f"  {rule.id:32} {kinds:24} {rule.severity:9} {rule.description}")
    return 0
