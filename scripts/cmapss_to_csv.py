"""Convert one NASA C-MAPSS subset (train_FD00x.txt, test_FD00x.txt, RUL_FD00x.txt) to facmon's long CSVs.

    python scripts/cmapss_to_csv.py DATA_DIR FD001 OUT_DIR

writes OUT_DIR/TRAIN.csv, TEST.csv and TRUTH.csv for `facmon predictor evaluate`. The C-MAPSS files are
whitespace-separated: unit, cycle, three operational settings, 21 sensors; RUL_FD00x.txt holds one
remaining life per test unit, in unit order. The data set (Saxena et al. 2008, NASA Prognostics Data
Repository) is not shipped with facmon; see docs/predictor.md for where to get it.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

COLUMNS = ["unit", "time", "setting1", "setting2", "setting3", *(f"s{i}" for i in range(1, 22))]


def convert(data_dir: Path, subset: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    units: list[str] = []
    for part in ("train", "test"):
        with (out / f"{part.upper()}.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(COLUMNS)
            for line in (data_dir / f"{part}_{subset}.txt").read_text(encoding="utf-8").splitlines():
                cells = line.split()
                if not cells:
                    continue
                if len(cells) != len(COLUMNS):
                    raise SystemExit(f"{part}_{subset}.txt: {len(cells)} columns, expected {len(COLUMNS)}")
                writer.writerow([str(int(cells[0])), str(int(cells[1])), *cells[2:]])
                if part == "test" and (not units or units[-1] != str(int(cells[0]))):
                    units.append(str(int(cells[0])))
    remaining = (data_dir / f"RUL_{subset}.txt").read_text(encoding="utf-8").split()
    if len(remaining) != len(units):
        raise SystemExit(f"RUL_{subset}.txt has {len(remaining)} values for {len(units)} test units")
    with (out / "TRUTH.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["unit", "rul"])
        writer.writerows(zip(units, remaining, strict=True))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    convert(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
