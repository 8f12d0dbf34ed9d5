"""The benches' summary rows: an aim is met or not by the value or the ratio it names, and
`make bench`'s table lists each bench's rows under its name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import summary


def test_an_aim_on_the_ratio_is_met_by_the_ratio_and_one_on_the_value_by_the_value() -> None:
    creates = summary.Row("creates", 40.0, "/s", baseline=50.0, aim=summary.ratio_at_least(0.8))
    assert creates.ratio == pytest.approx(0.8) and creates.met is True
    slower = summary.Row("p99", 130.0, "ms", baseline=100.0, aim=summary.ratio_at_most(1.2))
    assert slower.met is False
    delay = summary.Row("delay", 1999.0, "ms", aim=summary.at_most(2000, "ms"))
    assert delay.ratio is None and delay.met is True
    assert summary.Row("no aim", 1.0, "ms").met is None
    assert str(summary.ratio_at_least(0.8)) == "ratio >= 0.8" and str(summary.at_most(2000, "ms")) == "<= 2000 ms"


def test_rows_appended_by_each_bench_make_one_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"began": 0}) + "\n")
    summary.report("bench_a", [summary.Row("a", 1.0, "ms", 2.0, summary.ratio_at_most(1.2))], str(path))
    summary.report("bench_b", [summary.Row("b", 3.0, "/s", 2.0, summary.ratio_at_least(2.0))], str(path))
    records = [json.loads(line) for line in path.read_text().splitlines()]
    lines = summary.table(records)
    assert [line.split()[0] for line in lines[1:]] == ["bench_a", "a", "bench_b", "b"]
    assert lines[2].split()[-1] == "yes" and lines[4].split()[-1] == "NO"
