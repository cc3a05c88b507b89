"""The one writer of the dashboard: an ordered queue of store calls, run off the UI loop.

Every write the TUI makes goes through one ``OrderedWriter`` (the app's; a pane mounted on its
own, as in tests, makes its own). Calls reach the store in the order they were asked for: five
notes typed in a burst are stored as typed, and a postmortem load never overtakes the save
before it (it would put stale text back in a field). One thread worker drains the queue; each
call runs under ``run_lock`` together with its dequeue, so even a synchronous ``drain_now()``
from the UI thread (when the app or a pane goes away) keeps the order.

Results come back as typed messages (``WriteDone``, ``WriteFailed``) posted to the owner, which
hands them to ``finish`` on the UI loop. A failing call never stops the queue: its error, product
refusal or bug alike, goes to the job's ``failed`` (so typed text can be given back).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from textual.dom import DOMNode
from textual.message import Message

from incident_tui.tui.failures import show_failure


@dataclass
class WriteJob:
    call: Callable[[], Any]
    done: Callable[[Any], None] | None = None
    failed: Callable[[Exception], None] | None = None
    coalesce: Hashable | None = None


@dataclass
class WriteDone(Message):
    """A queued call returned ``result``."""

    writer: OrderedWriter
    job: WriteJob
    result: Any


@dataclass
class WriteFailed(Message):
    """A queued call raised ``error`` (the queue went on)."""

    writer: OrderedWriter
    job: WriteJob
    error: Exception


class OrderedWriter:
    """FIFO of calls run one at a time in a thread worker of ``owner``; results come back as messages.

    The owner (an App or a Widget) must route ``WriteDone`` and ``WriteFailed`` to ``finish``
    (see ``IncidentApp`` and ``PostmortemPane``).
    """

    def __init__(self, owner: DOMNode, lock: Callable[[], AbstractContextManager[Any]],
                 idle: Callable[[], None] | None = None) -> None:
        self.owner = owner
        self._idle: list[Callable[[], None]] = [idle] if idle is not None else []
        self._lock = lock  # the store locks shared with the rest of the app
        self._queue: deque[WriteJob] = deque()
        self._queue_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._draining = False
        self.pending = 0  # jobs queued or running, for the "saving…" indicators

    def on_idle(self, callback: Callable[[], None]) -> None:
        """Also call ``callback`` on the UI loop whenever nothing is queued or running any more."""
        self._idle.append(callback)

    def submit(self, call: Callable[[], Any], done: Callable[[Any], None] | None = None,
               failed: Callable[[Exception], None] | None = None, coalesce: Hashable | None = None) -> bool:
        """Queue ``call``; False when it replaced the last queued job instead.

        ``coalesce``: a job with the same key that is last in the queue (not started) is replaced,
        so saving on every key costs one store write per write time, not one per key, and the
        order of everything else is kept (only a tail job is ever replaced).
        """
        job = WriteJob(call, done, failed, coalesce)
        with self._queue_lock:
            if coalesce is not None and self._queue and self._queue[-1].coalesce == coalesce:
                self._queue[-1] = job
                return False
            self._queue.append(job)
            self.pending += 1
            start = not self._draining
            self._draining = True
        if start:
            # exit_on_error=False: _drain reports every error itself; should it ever raise, the
            # app's Worker.StateChanged handler shows it (IncidentApp.on_worker_state_changed).
            self.owner.run_worker(self._drain, thread=True, group="writes", exit_on_error=False)
        return True

    def _next(self) -> WriteJob | None:
        with self._queue_lock:
            if not self._queue:
                self._draining = False
                return None
            return self._queue.popleft()

    def _run_one(self) -> tuple[WriteJob, Any, Exception | None] | None:
        with self._run_lock:
            job = self._next()
            if job is None:
                return None
            try:
                with self._lock():
                    result = job.call()
            except Exception as exc:  # reported to the UI (a bug as a bug); the queue goes on
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
            # post_message never raises: while the app shuts down the write itself is done,
            # only its report is lost.
            if error is not None:
                self.owner.post_message(WriteFailed(self, job, error))
            else:
                self.owner.post_message(WriteDone(self, job, result))

    def finish(self, message: WriteDone | WriteFailed) -> None:
        """On the UI loop: hand a result to its job's callback, then tell the idle listeners."""
        try:
            if isinstance(message, WriteFailed):
                if message.job.failed is not None:
                    message.job.failed(message.error)
                else:
                    show_failure(self.owner, message.error)
            elif message.job.done is not None:
                message.job.done(message.result)
        finally:
            if self.pending == 0:
                for callback in self._idle:
                    callback()

    def drain_now(self) -> None:
        """Run every queued call here and now (the app or pane is going away); results are not reported."""
        while True:
            outcome = self._run_one()
            if outcome is None:
                return
