"""The benches' headline figures, one row each: the figure, its baseline from the same run,
the ratio, the aim (issue 22's) and whether it is met.

Each bench prints its own rows at the end of its figures and, given `--summary FILE`,
appends them to FILE as JSON lines; `make bench` starts the file, runs the benches in turn
(each in a process of its own, as each can be run alone) and prints one table of all of them:

    .venv/bin/python -m bench.summary FILE --begin   # empties FILE, notes the start
    .venv/bin/python -m bench.summary FILE           # the table, and how long the run took

Rows are written as each bench ends, so a run stopped halfway still has the table of the
benches that finished.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Aim:
    """What a figure must reach: its value, or its ratio to the baseline, at least or at most `bound`."""

    bound: float
    at_most: bool
    of_ratio: bool
    unit: str = ""

    def met(self, value: float, ratio: float | None) -> bool:
        measured = ratio if self.of_ratio else value
        if measured is None:
            return False
        return measured <= self.bound if self.at_most else measured >= self.bound

    def __str__(self) -> str:
        what = "ratio " if self.of_ratio else ""
        unit = "" if self.of_ratio else f" {self.unit}".rstrip()
        return f"{what}{'<=' if self.at_most else '>='} {self.bound:g}{unit}"


def ratio_at_least(bound: float) -> Aim:
    return Aim(bound, at_most=False, of_ratio=True)


def ratio_at_most(bound: float) -> Aim:
    return Aim(bound, at_most=True, of_ratio=True)


def at_most(bound: float, unit: str) -> Aim:
    return Aim(bound, at_most=True, of_ratio=False, unit=unit)


@dataclass(frozen=True)
class Row:
    figure: str
    value: float
    unit: str
    baseline: float | None = None  # in the same unit, measured in the same run
    aim: Aim | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def met(self) -> bool | None:
        return None if self.aim is None else self.aim.met(self.value, self.ratio)

    def record(self, bench: str) -> dict[str, Any]:
        return {"bench": bench, "figure": self.figure, "value": self.value, "unit": self.unit,
                "baseline": self.baseline, "ratio": self.ratio,
                "aim": None if self.aim is None else str(self.aim), "met": self.met}


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}{' ' + unit if unit else ''}"


def yes_no(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "NO"


COLUMNS = f"{'figure':<58} {'value':>12} {'baseline':>12} {'ratio':>6}  {'aim':<16} {'met':<3}"


def line(record: dict[str, Any]) -> str:
    return (f"{record['figure']:<58} {number(record['value'], record['unit']):>12} "
            f"{number(record['baseline'], record['unit']):>12} {number(record['ratio']):>6}  "
            f"{record['aim'] or '-':<16} {yes_no(record['met']):<3}")


def report(bench: str, rows: list[Row], path: str | None) -> None:
    """Prints the bench's rows; appends them to `path` if given."""
    records = [row.record(bench) for row in rows]
    print(f"\nSummary rows ({bench})\n{COLUMNS}")
    for record in records:
        print(line(record))
    sys.stdout.flush()
    if path:
        load = os.getloadavg()[0]
        with Path(path).open("a") as out:
            for record in records:
                out.write(json.dumps({**record, "at": time.time(), "load": load}) + "\n")


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--summary", metavar="FILE", default=None,
                        help="append this bench's summary rows to FILE (JSON lines, see bench/summary.py)")


def table(records: list[dict[str, Any]]) -> list[str]:
    """Every bench's rows under its name, in the order they were recorded."""
    lines = ["  " + COLUMNS]
    bench = None
    for record in records:
        if record.get("bench") is None:
            continue  # the start
        if record["bench"] != bench:
            bench = record["bench"]
            lines.append(bench)
        lines.append("  " + line(record))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--begin", action="store_true", help="empty the file and note the start")
    args = parser.parse_args()
    path = Path(args.file)
    if args.begin:
        path.write_text(json.dumps({"began": time.time()}) + "\n")
        return
    records = [json.loads(text) for text in path.read_text().splitlines() if text.strip()]
    rows = [record for record in records if "bench" in record]
    aimed = [record for record in rows if record["met"] is not None]
    print(f"\nSummary: {len(rows)} figures from {len({r['bench'] for r in rows})} benches; "
          f"{sum(bool(r['met']) for r in aimed)} of {len(aimed)} aims met\n")
    print("\n".join(table(records)))
    began = next((record["began"] for record in records if "began" in record), None)
    if began is not None and rows:
        loads = ", ".join(f"{record['load']:.1f}" for record in dedupe_by_bench(rows))
        print(f"\nrun took {(rows[-1]['at'] - began) / 60:.1f} min; load average (1 min) "
              f"at each bench's end: {loads}; {os.cpu_count()} cores")


def dedupe_by_bench(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each bench's last row."""
    last: dict[str, dict[str, Any]] = {}
    for record in rows:
        last[record["bench"]] = record
    return list(last.values())


if __name__ == "__main__":
    main()
