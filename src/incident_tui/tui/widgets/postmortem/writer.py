"""An ordered queue of store calls, run off the UI loop.

The form saves on every change (later keys in a field fold into its save still waiting in the
queue); saves, loads and renders must reach the store in the order the user made them (a load
overtaking a save would put stale text back in a field). One thread worker drains the queue; each call runs under ``run_lock`` together with its dequeue, so even a
synchronous ``drain_now()`` from the UI thread (when the pane goes away) keeps the order.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from textual.widget import Widget


@dataclass
class _Job:
    call: Callable[[], Any]
    done: Callable[[Any], None] | None
    failed: Callable[[Exception], None] | None
    coalesce: Hashable | None = None


class OrderedWriter:
    """FIFO of calls run one at a time in a thread worker of ``owner``; results come back on the UI loop."""

    def __init__(self, owner: Widget, lock: Callable[[], Any], idle: Callable[[], None] | None = None) -> None:
        self.owner = owner
        self.idle = idle  # called on the UI loop once nothing is queued or running
        self._lock = lock  # the store lock shared with the rest of the app
        self._queue: deque[_Job] = deque()
        self._queue_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._draining = False
        self.pending = 0  # jobs queued or running, for the "saving…" indicator

    def submit(self, call: Callable[[], Any], done: Callable[[Any], None] | None = None,
               failed: Callable[[Exception], None] | None = None, coalesce: Hashable | None = None) -> bool:
        """Queue ``call``; False when it replaced the last queued job instead.

        ``coalesce``: a job with the same key that is last in the queue (not started) is replaced,
        so saving on every key costs one store write per write time, not one per key, and the
        order of everything else is kept (only a tail job is ever replaced).
        """
        job = _Job(call, done, failed, coalesce)
        with self._queue_lock:
            if coalesce is not None and self._queue and self._queue[-1].coalesce == coalesce:
                self._queue[-1] = job
                return False
            self._queue.append(job)
            self.pending += 1
            start = not self._draining
            self._draining = True
        if start:
            self.owner.run_worker(self._drain, thread=True, group="postmortem-store", exit_on_error=False)
        return True

    def _next(self) -> _Job | None:
        with self._queue_lock:
            if not self._queue:
                self._draining = False
                return None
            return self._queue.popleft()

    def _run_one(self) -> tuple[_Job, Any, Exception | None] | None:
        with self._run_lock:
            job = self._next()
            if job is None:
                return None
            try:
                with self._lock():
                    result = job.call()
            except Exception as exc:  # reported to the UI; the queue goes on
                return job, None, exc
            finally:
                with self._queue_lock:
                    self.pending -= 1
            return job, result, None

    def _drain(self) -> None:
        while True:
            outcome = self._run_one()
            if outcome is None:
                return
            job, result, error = outcome
            try:
                self.owner.app.call_from_thread(self._report, job, result, error)
            except Exception:
                # The app is shutting down: the write itself is done, only the report is lost.
                pass

    def _report(self, job: _Job, result: Any, error: Exception | None) -> None:
        try:
            if error is not None:
                if job.failed is not None:
                    job.failed(error)
            elif job.done is not None:
                job.done(result)
        finally:
            if self.pending == 0 and self.idle is not None:
                self.idle()

    def drain_now(self) -> None:
        """Run every queued call here and now (the pane is going away); results are not reported."""
        while True:
            outcome = self._run_one()
            if outcome is None:
                return
