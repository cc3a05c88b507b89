"""What a pane may use of the dashboard, typed: the store lock, the one writer, the clock.

A pane gets a ``PaneContext`` when the dashboard builds it (tui/panes.py) instead of reaching
into the app for attributes; a pane mounted on its own (tests, another host) gets none and
falls back to its own lock and writer.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_tui.tui.writer import OrderedWriter


@dataclass(frozen=True)
class PaneContext:
    # Held by the UI thread's reads and by every write (app.py's docstring says why).
    db_lock: AbstractContextManager[Any]
    # The dashboard's one writer, for a pane that queues its own store calls (the postmortem).
    writer: OrderedWriter
    # A service call through the writer with the busy mark and a refresh after it:
    # write(fn, *args, done=callback, **kwargs) — IncidentApp.write.
    write: Callable[..., None]
    clock: Callable[[], datetime]
