"""`facmon bench rules` on a tiny size: one JSON object with the promised fields, and a rule file watcher."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.errors import ConfigError
from facmon.cli import main
from rules.ruleset import RuleFileWatcher, RuleSet


def test_bench_rules_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "rules", "--readings", "3000", "--rate", "2000", "--latency-seconds", "0.5"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("readings", "readings_per_s", "alarms", "latency_p50_ms", "latency_p99_ms", "rss_mb"):
        assert key in result
    assert result["readings"] == 3000
    assert result["latency_readings"] == 1000
    assert 0 < result["latency_p50_ms"] <= result["latency_p99_ms"]


GOOD = 'rules:\n  - id: a\n    applies_to: pump\n    when: "running"\n    severity: low\n    message: m\n'


def test_the_watcher_reloads_on_a_change_and_keeps_the_rules_on_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(GOOD)
    ruleset = RuleSet((path,))
    loaded: list[int] = []
    watcher = RuleFileWatcher([path], lambda: loaded.append(len(ruleset.load())))
    assert not watcher.check()
    path.write_text(GOOD.replace("id: a", "id: b"))
    os.utime(path, ns=(1, 1))  # a new mtime even on a coarse clock
    assert watcher.check()
    assert loaded == [len(ruleset.load())]
    assert "b" in {rule.id for rule in ruleset.load()}
    path.write_text("rules: [oops")
    assert watcher.check()
    assert (watcher.reloads, watcher.errors) == (1, 1)
    with pytest.raises(ConfigError, match=r"site\.yaml"):
        ruleset.load()
