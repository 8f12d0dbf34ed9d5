"""switchboard.heap: what a process built before serving is frozen out of the collector's
scans, and the youngest generation is collected less often; each process settles once
built (run in a child process: freezing changes the interpreter it runs in)."""

from __future__ import annotations

import inspect
import subprocess
import sys

from switchboard import cli

CHILD = """
import gc
from switchboard import heap
kept = [[n] for n in range(50_000)]  # what a process builds at start and keeps (lists: tracked by the collector)
before = gc.get_freeze_count()
heap.settle()
assert gc.get_freeze_count() >= before + len(kept), gc.get_freeze_count()
assert gc.get_threshold()[0] == heap.YOUNG_COLLECTION_THRESHOLD, gc.get_threshold()
assert gc.get_threshold()[1:] == (10, 10), gc.get_threshold()  # the older generations' rules kept
assert gc.isenabled()
print("settled")
"""


def test_settle_freezes_what_was_built_and_collects_the_young_less_often() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "settled"


def test_every_serving_process_settles_once_built() -> None:
    for runner in (cli.run_api, cli.run_worker, cli.run_courier):
        assert "heap.settle()" in inspect.getsource(runner), runner.__name__
