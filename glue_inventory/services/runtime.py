"""How the interpreter runs the tool's work: the garbage collector's pace while a step works."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# While a step works, the garbage collector's young generation is collected every this many allocations
# (Python's default: 700).
YOUNG_COLLECTION_EVERY = 100_000


@contextmanager
def young_collections_every(allocations: int = YOUNG_COLLECTION_EVERY) -> Iterator[None]:
    """The garbage collector's young generation collected every `allocations` allocations while this is open
    (restored after). A fetch keeps a batch of runs alive (a dict per run as parsed, a tuple and a row): with
    Python's default of 700, they outlived the young collections, and the oldest generation, holding every
    client (botocore builds about 5,000 objects per Glue client), was traversed again and again: 29 full
    collections and 5.4 s of the Organization benchmark's 31 s of client CPU, against 4 and 2 s with 10,000
    around every asset step; 100,000 (about what a second of fetches allocates: most of a batch's objects are
    gone before a collection sees them) took the collector's share of that benchmark from about 4 s to 3 s
    (`gc.callbacks` timing each collection, two runs each). Memory is freed by reference counting as before; only
    cycles wait a little longer (that benchmark's peak RSS 434 MB against 446). Beside `definitions.py`'s
    `gc.freeze()`, which keeps what the load built out of every collection. A process that asked for more (or
    turned the collector's thresholds off with 0) keeps it."""
    before = gc.get_threshold()
    if before[0] == 0 or before[0] >= allocations:
        yield
        return
    gc.set_threshold(allocations, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
