"""The garbage collector of a long-running Switchboard process (api, worker, courier).

Left at CPython's defaults, the cyclic collector scanned every object a process had built at
start (modules, the app's routes and models, the worker's workflow definitions: about 200,000
objects) at each full collection, and under 32 creates in flight each process ran one every
~100 creates: a pause of 60-100 ms of CPU in the API and in the worker (measured with
gc.callbacks and thread_time), which lands on whatever request or workflow task runs then,
and about 3 ms of CPU per create over the three processes with the younger collections.
Once a process has built what it keeps, `settle` moves those objects to the permanent
generation (gc.freeze: never scanned again, never freed; they live as long as the process)
and collects the youngest generation 14 times less often (after 10,000 allocations, not
700). Garbage in cycles waits a little longer to be freed; the older generations keep their
rules.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_THRESHOLD = 10_000


def settle() -> None:
    """Call once, after the process has built its app or worker and before it serves."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)
