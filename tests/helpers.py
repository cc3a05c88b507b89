"""Small things many tests share (importable as `helpers`: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key


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


def timeline_rows(app) -> list[str]:
    """Every event of the timeline as painted at its width (lines joined by line breaks)."""
    event_list = app.query_one("#timeline-events")
    return [event_list.row_text(index) for index in range(len(event_list.events))]


def quiet(app) -> bool:
    """Nothing left to do: no worker pending or running, no message waiting in the app or on any screen."""
    if not all(worker.is_finished for worker in app.workers):
        return False
    typeahead = getattr(app, "typeahead", None)  # the dashboard holds keys until the one before has landed
    if typeahead is not None and not typeahead.idle:
        return False
    pumps = [app, *(node for screen in app.screen_stack for node in screen.walk_children(with_self=True))]
    return all(pump.message_queue_size == 0 for pump in pumps)


async def settle(pilot) -> None:
    """Let the app go quiet: pressed keys handled, thread workers (writes, hooks, clipboard) finished,
    their callbacks run (a callback may start the next worker) and the frames after them painted.

    Up to three rounds of handling and waiting for workers; once a round leaves nothing pending
    (no worker, no queued message), the next rounds would have nothing to wait for."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        if quiet(pilot.app):
            break
    await pilot.pause()


def key_event(key: str) -> events.Key:
    """The event a terminal read makes of ``key`` (as Pilot.press builds it)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def burst(pilot, *keys: str) -> None:
    """Keys as one read from a fast typist's terminal: all queued before the first is handled (``pilot.press``
    waits for the app to go idle after every key). Returns once every key is handled and the app is quiet."""
    app = pilot.app
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        app._driver.send_message(event)
    for _ in range(200):
        await pilot.pause()
        if quiet(app):
            return
    raise AssertionError(f"the app was still busy after a burst of {len(keys)} keys")
