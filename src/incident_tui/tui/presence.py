"""Presence for the dashboard: beat once a second off the UI thread, show who else is on the incident."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.widget import Widget

from incident_tui.domain.presence import Presence, viewers, viewers_line

if TYPE_CHECKING:
    from incident_tui.tui.app import IncidentApp

REWRITE_EVERY = 5  # seconds: an unchanged heartbeat is rewritten this often, a changed one at once


def where_am_i() -> str:
    """A dashboard run by textual-serve is in a browser; anything else is a terminal."""
    return "browser" if "web_driver" in os.environ.get("TEXTUAL_DRIVER", "") else "terminal"


@dataclass
class ViewersChanged(Message):
    """Who else has the selected incident open changed ("bo, cy viewing", or "")."""

    line: str


@dataclass
class PresenceOff(Message):
    """The heartbeat directory cannot be used: presence stops, the dashboard goes on."""

    error: OSError


class PresenceTracker:
    """Owns this dashboard's heartbeat file; puts "bo, cy viewing" into the header."""

    def __init__(self, app: IncidentApp, db_path: str | os.PathLike[str]) -> None:
        self.app = app
        # Imported here: the app imports this module for its messages, and the board (with its
        # random names) is not needed until the database is open.
        from incident_tui.store.presence import PresenceBoard

        self.board = PresenceBoard(db_path)
        self.session = uuid.uuid4().hex
        self.where = where_am_i()
        self._written: tuple[str | None, str] | None = None
        self._since_write = 0
        self.line = ""
        self.failed = False

    def start(self, owner: Widget) -> None:
        """Beat now and once a second on ``owner``'s timer (the widget that shows the result), so
        the clock ends with it and never outlives the screen."""
        self.tick()
        owner.set_interval(1.0, self.tick)

    def tick(self) -> None:
        if self.failed:
            return
        incident = self.app.current
        self.app.run_worker(
            lambda: self._beat(incident.id if incident else None),
            thread=True, group="presence", exclusive=True, exit_on_error=False,
        )

    def _beat(self, incident_id: str | None) -> None:
        now = self.app.clock()
        user = self.app.config.author
        state = (incident_id, user)
        self._since_write += 1
        try:
            if state != self._written or self._since_write >= REWRITE_EVERY:
                self.board.beat(Presence(self.session, user, self.where, incident_id, now))
                self._written, self._since_write = state, 0
            entries = self.board.read(now)
        except OSError as exc:  # a read-only or hostile directory: presence off, the dashboard goes on
            self.failed = True
            self.app.post_message(PresenceOff(exc))
            return
        except Exception:
            self.failed = True  # a bug: the app's worker handler shows it once, not once a second
            raise
        line = viewers_line(viewers(entries, me=self.session, incident_id=incident_id, now=now))
        if line != self.line:
            self.line = line
            self.app.post_message(ViewersChanged(line))

    def stop(self) -> None:
        try:
            self.board.leave(self.session)
        except OSError:
            pass
