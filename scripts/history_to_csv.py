"""Turn a simulated fleet's run-to-failure history (simulators/history.py) into `facmon predictor evaluate` CSVs.

    python scripts/history_to_csv.py HISTORY_DIR KIND OUT_DIR [TEST_SHARE] [SEED]

Only assets that failed are used. A seeded share of them (default 0.4) become test units, each cut at a
random day after its fifth row; TRUTH holds the days from the cut to the failure. Time is in days since
the history's start. The simulator's ``true_wear`` column is ground truth, not a measurement: dropped.
"""

from __future__ import annotations

import csv
import random
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

HIDDEN = ("asset_id", "site_id", "at", "true_wear")


def convert(history: Path, kind: str, out: Path, test_share: float = 0.4, seed: int = 0) -> None:
    with (history / "failures.csv").open(newline="", encoding="utf-8") as file:
        failed = {row["asset_id"]: row["failure_at"] for row in csv.DictReader(file)
                  if row["kind"] == kind and row["failed"] == "1"}
    with (history / f"{kind}.csv").open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        names = [n for n in reader.fieldnames or () if n not in HIDDEN]
        rows: dict[str, list[list[str]]] = defaultdict(list)
        start: datetime | None = None
        for row in reader:
            if row["asset_id"] in failed:
                at = datetime.fromisoformat(row["at"])
                start = start or at
                rows[row["asset_id"]].append([f"{(at - start).total_seconds() / 86400:.4f}", *(row[n] for n in names)])
    rng = random.Random(seed)
    units = sorted(rows)
    test = set(rng.sample(units, round(test_share * len(units))))
    out.mkdir(parents=True, exist_ok=True)
    with (out / "TRAIN.csv").open("w", newline="", encoding="utf-8") as train_file, \
         (out / "TEST.csv").open("w", newline="", encoding="utf-8") as test_file, \
         (out / "TRUTH.csv").open("w", newline="", encoding="utf-8") as truth_file:
        train, cut, truth = csv.writer(train_file), csv.writer(test_file), csv.writer(truth_file)
        for writer in (train, cut):
            writer.writerow(["unit", "time", *names])
        truth.writerow(["unit", "rul"])
        for unit in units:
            series = rows[unit]
            if unit not in test:
                train.writerows([unit, *r] for r in series)
                continue
            stop = rng.randint(min(5, len(series)), len(series))
            cut.writerows([unit, *r] for r in series[:stop])
            truth.writerow([unit, f"{float(series[-1][0]) - float(series[stop - 1][0]):.4f}"])


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5, 6):
        raise SystemExit(__doc__)
    convert(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), *(float(a) for a in sys.argv[4:5]),
            *(int(a) for a in sys.argv[5:6]))
