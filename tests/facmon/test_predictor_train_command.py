"""`facmon predictor train` on real SQLite stores: one JSON object with a summary per kind."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from facmon.commands.predictor_train import register_train
from storage.records import Database


def test_train_without_failures_trains_nothing_and_says_why(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    db.upgrade()
    db.dispose()
    config = tmp_path / "facmon.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "records.sqlite3"}"\n'
                      f'[telemetry]\nsqlite_path = "{tmp_path / "telemetry.sqlite3"}"\n')
    parser = argparse.ArgumentParser(prog="facmon predictor")
    register_train(parser.add_subparsers(required=True))
    args = parser.parse_args(["train", "--config", str(config), "--kind", "pump", "--days", "90",
                              "--until", "2026-06-01T00:00:00"])

    assert args.run(args) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["at"] == "2026-06-01T00:00:00+00:00"
    assert list(report["kinds"]) == ["pump"]
    pump = report["kinds"]["pump"]
    assert (pump["trained"], pump["failures"], pump["reason"]) == (False, 0, "fewer than 5 complete runs to failure")
    assert pump["window"] == ["2026-03-03T00:00:00+00:00", "2026-06-01T00:00:00+00:00"]
    assert pump["observed_coverage"] == {"nominal": 0.8, "share": None, "resolved": 0}
