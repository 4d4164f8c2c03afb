"""`facmon predictor ...`: the learned remaining-useful-life model; `evaluate` scores it on CSV files,
`train` (facmon/commands/predictor_train.py) retrains it from the records."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facmon.commands import Commands
from facmon.commands.predictor_train import register_train

EVALUATE_HELP = """\
Fit the learned RUL model on TRAIN, predict the remaining life of each TEST unit at its last row, score
against TRUTH and print one JSON object: rmse, mae, phm08 (the asymmetric PHM08 score, lower is better),
coverage_p10_p90 (share of true values inside the P10-P90 interval), the same against the truth clipped
at the cap (capped_truth, the C-MAPSS literature's convention), unit counts, features, fit_s, predict_s,
the model's parameters and its own validation on held-out training units.

Files (CSV with a header row):
  TRAIN.csv, TEST.csv  unit,time,<feature columns...>  (train units run to failure at their last row;
                       test units are cut short; any number of numeric features)
  TRUTH.csv            unit,rul  (remaining life of each test unit after its last row)
A malformed file exits with status 2 and a message naming the file and line."""


def register(commands: Commands) -> None:
    predictor = commands.add_parser("predictor", help="remaining-useful-life model: train it, evaluate it on CSV files")
    actions = predictor.add_subparsers(required=True, metavar="ACTION")
    register_evaluate(actions)
    register_train(actions)


def register_evaluate(actions: Commands) -> None:
    evaluate = actions.add_parser("evaluate", help="fit on TRAIN, score on TEST against TRUTH; prints JSON",
                                  description=EVALUATE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    evaluate.add_argument("--train", type=Path, required=True, metavar="TRAIN.csv", help="run-to-failure units")
    evaluate.add_argument("--test", type=Path, required=True, metavar="TEST.csv", help="units cut short")
    evaluate.add_argument("--truth", type=Path, required=True, metavar="TRUTH.csv", help="unit,rul of TEST units")
    evaluate.add_argument("--seed", type=int, default=0, help="random seed of the split and the boosters (default 0)")
    evaluate.add_argument("--cap", type=float, default=None,
                          help="ceiling of the point model's target in time units (default: the 5th "
                          "percentile of the training units' lifetimes; 125 is the C-MAPSS custom)")
    evaluate.set_defaults(run=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from predictor.evaluation import evaluate_files

    report = evaluate_files(args.train, args.test, args.truth, seed=args.seed, cap=args.cap)
    print(json.dumps(report))
    return 0
