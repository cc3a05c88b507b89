"""JSON encoding shared by the snapshot and the journal (orjson, TinyDB-compatible)."""

from __future__ import annotations

import gc
from typing import Any

import orjson

OPTS = orjson.OPT_NON_STR_KEYS  # TinyDB (stdlib json) turns int keys into strings too

# Above this many bytes, parsing pauses the cyclic GC and freezes the result.
BULK_LOAD_BYTES = 4 * 1024 * 1024


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=OPTS)


def deepcopy(doc: Any) -> Any:
    # Documents are JSON by construction, and an orjson round trip is several
    # times faster than copy.deepcopy.
    return orjson.loads(orjson.dumps(doc, option=OPTS))


def loads_bulk(raw: bytes) -> Any:
    """orjson.loads for tens of MB without paying the cyclic GC for it.

    Parsing a big snapshot allocates about a million containers.  With the GC
    running, collections keep traversing them while they are built, and the
    first collections afterwards traverse them again to promote them: about
    0.2 s at 150k events, for nothing (JSON has no cycles).  So: collect the
    garbage that exists now (cheap, the heap is small or already frozen),
    parse with the GC off, then ``gc.freeze()`` so the GC never scans the
    loaded documents; they are still freed normally by reference counting
    when replaced.  Small inputs skip all of this.
    """
    if len(raw) < BULK_LOAD_BYTES:
        return orjson.loads(raw)
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        return orjson.loads(raw)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
