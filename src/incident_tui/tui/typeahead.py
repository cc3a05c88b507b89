"""Type-ahead: keys and pastes reach the app one at a time, each once the one before has landed.

Textual routes a key the moment it is read: to the widget focused *then*. A burst read in one go
(laggy SSH, a bouncing key, a paste of keystrokes) is routed before the first key's effects exist,
so the letters typed after `n` reach the hotkeys instead of the note line, and a second Enter
reaches a picker that is already closing. Here each key waits until the previous one has had all
its effects — its messages handled, the focus moved, a new screen mounted and focused — and is
then handed to the app as if typed slowly. Nothing is dropped and the order is kept, as in a shell.

"Landed" means every message pump of the app has an empty queue and is waiting for its next
message (not half-way through handling one), no pump has a pending call_next, and the screen has
no pending after-refresh callback. The app counts its own dispatches (``dispatching``); for the
other pumps their task's await chain shows whether it rests in the queue's get. Textual is pinned
exactly; tests/tui/test_keys.py fails if this stops holding. A key waits at most ``limit``
seconds, so a busy pane cannot swallow keys.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from textual import events
from textual._queue import Queue
from textual.app import App

SPIN = 100  # loop turns at full speed before the wait backs off to short sleeps
_QUEUE_GET = Queue.get.__code__


def _resting(task: asyncio.Task | None) -> bool:
    """True when a pump's task is parked in its queue's get (or is not running at all)."""
    if task is None or task.done():
        return True
    coro = task.get_coro()
    while coro is not None:
        if getattr(coro, "cr_code", None) is _QUEUE_GET:
            return True
        coro = getattr(coro, "cr_await", None)
    return False


class TypeAhead:
    def __init__(self, app: App, ready: Callable[[], bool] = lambda: True, *, limit: float = 1.0,
                 urgent: Callable[[events.Event], bool] = lambda _event: False) -> None:
        self.app = app
        self.ready = ready  # False while the app cannot take keys at all (its database still opening)
        self.urgent = urgent  # keys that skip the queue (quitting while the database is still opening)
        self.limit = limit
        self.pending: deque[events.Event] = deque()
        self.in_flight: events.Event | None = None
        self._released: set[int] = set()
        self._task: asyncio.Task | None = None

    def hold(self, event: events.Event) -> bool:
        """Called first for every key and paste the app reads. True: it is queued, stop handling it now."""
        if id(event) in self._released:
            self._released.discard(id(event))
            return False
        if self.urgent(event):
            return False
        self.pending.append(event)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._feed())
        return True

    @property
    def key_time(self) -> float | None:
        """When the key now being handled was read (None outside a key: a click, a timer)."""
        return self.in_flight.time if self.in_flight is not None else None

    @property
    def idle(self) -> bool:
        return not self.pending and self.in_flight is None

    async def drain(self) -> None:
        """Wait until every key read so far has been handled (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _feed(self) -> None:
        try:
            while self.pending:
                typing = self._typing(self.pending[0])
                if not typing:
                    await self._settle()  # whatever is still landing (a dialog a worker opened) first
                event = self.pending.popleft()
                self.in_flight = None if typing else event
                self._released.add(id(event))
                if not self.app.post_message(event):
                    self._released.discard(id(event))
                if not typing:
                    await self._settle()
                self.in_flight = None
        finally:
            self.in_flight = None

    def _typing(self, event: events.Event) -> bool:
        """A printable key for the text field that has the focus: it moves no focus and opens
        nothing, so the next key need not wait for it to be painted (typing stays fast on a
        heavy form). Anything else (enter, tab, a hotkey, a paste) waits for all before it."""
        if not (isinstance(event, events.Key) and event.is_printable):
            return False
        from textual.widgets import Input, TextArea

        focused = self.app.focused
        return isinstance(focused, (Input, TextArea)) and not getattr(focused, "read_only", False)

    async def _settle(self) -> None:
        while not self.ready():
            await asyncio.sleep(0.01)
        deadline = time.monotonic() + self.limit
        turns = 0
        # Two quiet looks in a row: a pump between two messages of one chain looks quiet once.
        quiet = 0
        while quiet < 2 and time.monotonic() < deadline:
            quiet = quiet + 1 if self._quiet() else 0
            turns += 1
            await asyncio.sleep(0 if turns < SPIN else 0.002)

    def _quiet(self) -> bool:
        app = self.app
        if getattr(app, "dispatching", 0) or app._message_queue.qsize() or app._next_callbacks:
            return False
        for pump in list(app._registry):
            if pump._message_queue.qsize() or pump._next_callbacks or not _resting(pump._task):
                return False
        try:
            screen = app.screen
        except Exception:  # no screen yet or any more
            return True
        return not screen._callbacks
