"""Small things many tests share (importable as `helpers`: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """A clock the test moves by hand: deterministic timelines without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now

    def at(self, when: datetime) -> None:
        self.now = when


async def settle(pilot) -> None:
    """Let the app go quiet: pressed keys handled, thread workers (writes, hooks, clipboard) finished,
    their callbacks run (a callback may start the next worker) and the frames after them painted."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
