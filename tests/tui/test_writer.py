"""The one ordered writer: calls run in submission order, off the UI loop, and survive going away."""

from __future__ import annotations

import threading

from textual.app import App
from textual.widgets import Static

from incident_tui.tui.writer import OrderedWriter, WriteDone, WriteFailed


class Host(App):
    def compose(self):
        yield Static("x", id="owner")

    def on_write_done(self, message: WriteDone) -> None:
        message.writer.finish(message)

    def on_write_failed(self, message: WriteFailed) -> None:
        message.writer.finish(message)


async def test_calls_run_in_order_on_a_worker_and_report_on_the_ui_loop():
    app = Host()
    async with app.run_test() as pilot:
        owner = app.query_one("#owner")
        lock = threading.RLock()
        ran, reported, idle = [], [], []
        writer = OrderedWriter(owner, lambda: lock, idle=lambda: idle.append(writer.pending))
        ui_thread = threading.get_ident()

        def job(n):
            def call():
                assert threading.get_ident() != ui_thread  # never on the UI loop
                ran.append(n)
                return n
            return call

        for n in range(50):
            writer.submit(job(n), done=reported.append)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ran == list(range(50))
        assert reported == list(range(50))
        assert writer.pending == 0 and idle and idle[-1] == 0


async def test_a_failing_call_is_reported_and_the_queue_goes_on():
    app = Host()
    async with app.run_test() as pilot:
        owner = app.query_one("#owner")
        lock = threading.RLock()
        writer = OrderedWriter(owner, lambda: lock)
        errors, results = [], []

        def boom():
            raise ValueError("disk full")

        writer.submit(boom, failed=errors.append)
        writer.submit(lambda: "after", done=results.append)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [str(e) for e in errors] == ["disk full"] and results == ["after"]


async def test_drain_now_runs_what_is_left_in_order():
    app = Host()
    async with app.run_test():
        owner = app.query_one("#owner")
        lock = threading.RLock()
        gate = threading.Event()
        ran = []
        writer = OrderedWriter(owner, lambda: lock)
        writer.submit(lambda: (gate.wait(5), ran.append(0)))  # the worker is busy with this one
        for n in range(1, 6):
            writer.submit(lambda n=n: ran.append(n))
        gate.set()
        writer.drain_now()  # what the pane does when it is unmounted
        await app.workers.wait_for_complete()
        assert ran == [0, 1, 2, 3, 4, 5]
