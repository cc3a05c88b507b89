"""The dashboard: wires the panes to the services and maps every key to an action.

All data access goes through ``self.db_lock`` so the UI thread's reads never race a
worker's write. Every write goes through the one ``OrderedWriter`` (tui/writer.py), in a
thread worker and in the order asked for, taking the store's own lock before ``db_lock``;
it reports back with typed messages. Hooks run in their own workers, outside every lock,
and record what they did through the writer. The store is polled from a thread worker
that never waits for a lock and posts ``StoreChanged``. Any worker that fails is shown by
``on_worker_state_changed``. So the screen never waits, and never stays "⠿ saving".
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, Input, TextArea
from textual.worker import NoActiveWorker, Worker, WorkerState, get_current_worker

from incident_tui.config import Config
from incident_tui.domain.lifecycle import LifecycleError
from incident_tui.domain.models import Incident
from incident_tui.domain.playbooks import playbook_for
from incident_tui.domain.text import clean, neutralise
from incident_tui.domain.times import local_now
from incident_tui.tui.actions import ResponderActions
from incident_tui.tui.bindings import KEYS, app_bindings
from incident_tui.tui.commands import IncidentCommands
from incident_tui.tui.failures import EXPECTED, describe, show_failure
from incident_tui.tui.covered import install as install_covered
from incident_tui.tui.idle_gc import LOOK_EVERY, IdleCollector
from incident_tui.tui.scrollbars import install as install_cached_scrollbars
from incident_tui.tui.strips import install as install_strip_fix
from incident_tui.tui.styled_lines import install as install_styled_lines
from incident_tui.tui.panes import pane_factories
from incident_tui.tui.presence import PresenceOff, ViewersChanged
from incident_tui.tui.typeahead import TypeAhead
from incident_tui.tui.widgets.details import DetailsPanel
from incident_tui.tui.widgets.header import StatusHeader
from incident_tui.tui.widgets.incident_list import IncidentList
from incident_tui.tui.widgets.keybar import KeyBar
from incident_tui.tui.widgets.timeline import NoteInput, TimelinePane
from incident_tui.tui.writer import OrderedWriter, WriteDone, WriteFailed

if TYPE_CHECKING:  # the store is imported by the open worker, off the first frame's path
    from incident_tui.services.incidents import IncidentService

install_strip_fix()  # painted lines are freed as they are replaced and make their caches when used
install_cached_scrollbars()  # a bar at a position is painted once, not on every frame
install_styled_lines()  # a content line of a plain box is styled in a few steps, not through every rule
install_covered()  # a widget its children cover on every painted line is not painted at all

NARROW_WIDTH = 100
APP_ACTIONS = {k.action.split("(")[0] for k in KEYS} - {"help", "quit"}
# A lock wait shorter than this is not worth a line on screen.
LOCK_WAIT_SHOWN_AFTER = 0.3


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _as_enter(event: events.Key) -> events.Key:
    """ctrl+j is Enter, as in readline. It is also what an Enter typed before the app took the
    terminal arrives as: the terminal was still turning carriage returns into newlines, so
    `incident-tui` then `n`, a note and Enter typed at once at a shell stamped no note."""
    enter = events.Key("enter", "\r")
    enter.time = event.time  # read when the key was (type-ahead reports how long keys wait)
    return enter


class _WaitAbandoned(Exception):
    """The app is quitting while a worker waits for the database lock."""


class IncidentApp(ResponderActions, App):
    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute: subclasses elsewhere find it too
    TITLE = "incident-tui"
    COMMANDS = App.COMMANDS | {IncidentCommands}
    BINDINGS = app_bindings()
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_WIDTH, "-wide")]

    def __init__(
        self,
        *,
        db=None,
        config: Config | None = None,
        db_path: Path | None = None,
        clock: Callable[[], datetime] = local_now,
        poll_interval: float = 0.5,
        selection_delay: float = 0.05,
        presence: bool | None = None,
    ) -> None:
        super().__init__()
        # What the imports built lives as long as the process: out of the collector's way, so a
        # collection during start-up does not walk all of it (see _start for the database).
        gc.freeze()
        self._gc_paused = False
        self.idle_gc = IdleCollector()
        self.db = db
        self.db_path = db_path
        self.config = config or Config()
        self.clock = clock
        self.poll_interval = poll_interval
        self.selection_delay = selection_delay
        self._selection_timer = None
        self._shown_id: str | None = None  # the incident whose timeline and details are on screen
        self.db_lock = threading.RLock()
        # Without a db the app opens db_path itself, in a worker started before its first frame
        # (see _open_store).
        self.service: IncidentService | None = None
        if db is not None:
            from incident_tui.services.incidents import IncidentService

            self.service = IncidentService(db, config=self.config, clock=clock)
        self.load_error = ""
        self._owns_db = db is None
        self.incidents: list[Incident] = []
        self.current: Incident | None = None
        self.show_closed = False
        self.busy = ""
        self.keymap_overrides = dict(self.config.keys)
        self.panes: dict[str, Any] = {}
        self._painted_width = 0
        self._mounted = False
        self._opening = False  # the open worker was started
        # The open worker's outcome (StoreOpened or StoreOpenFailed), taken once: by on_mount
        # when the open is done by then, else by the message's handler.
        self._open_outcome: Message | None = None
        self._open_taken = False
        # Keys wait for the previous key's effects, and for the database to be open (typeahead.py).
        self.typeahead = TypeAhead(self, ready=lambda: self.service is not None or bool(self.load_error),
                                   urgent=self._quits_while_opening)
        # The one writer: every write of the dashboard and its panes, in the order asked for (five
        # notes typed in a burst are stored in the order typed), off the UI thread.
        self.writer = OrderedWriter(self, self._write_locks)
        self._terminal_gone = False
        self.dispatching = 0
        self._skipped_warned: set[str] = set()
        self._poll_error = ""
        self._polling = False  # a poll worker is looking at the file
        # Heartbeats for team mode; on by default where the app opens the database itself.
        self._presence_wanted = db is None if presence is None else presence
        self.presence = None

    # --- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Start-up allocates much and leaves little cyclic garbage (a few thousand objects): no
        # collection until the data is on screen (_start), or the app ends without it.
        self._gc_paused = gc.isenabled()
        gc.disable()
        if self.service is None and not self._opening:
            self._open_store()  # in a thread, while the widgets are mounted and laid out
        yield StatusHeader(id="status")
        # Until the database is open the panes are not shown (empty, they would read as "no
        # incidents"), nor laid out and painted: the first frame of a quick open is the one with data.
        with Horizontal(id="main").set_styles(display="block" if self.service is not None else "none"):
            with Vertical(id="left"):
                incidents = IncidentList(follow=self.follow_selection, id="incidents", classes="pane")
                incidents.border_title = "1 Incidents"
                yield incidents
                details = DetailsPanel(id="details", classes="pane")
                details.border_title = "Details"
                yield details
            with ContentSwitcher(initial="timeline", id="right"):
                timeline = TimelinePane(id="timeline", classes="pane")
                timeline.border_title = "2 Timeline"
                yield timeline
        yield KeyBar(id="keybar")

    async def _ensure_pane(self, name: str) -> Any | None:
        if name in self.panes:
            return self.panes[name]
        factory = pane_factories(self).get(name)
        if factory is None:
            return None
        title, build = factory
        pane = build()
        pane.id = name
        pane.add_class("pane")
        pane.border_title = title
        self.panes[name] = pane
        await self.query_one(ContentSwitcher).mount(pane)
        return pane

    def on_mount(self) -> None:
        if self.config.theme:
            if self.config.theme in self.available_themes:
                self.theme = self.config.theme
            else:
                self.notify(f"unknown theme {self.config.theme!r} in the config file; using the default",
                            severity="warning", markup=False)
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)
        for warning in self.config.warnings:  # e.g. a hook program missing on this machine
            self.notify(warning, severity="warning", timeout=15, markup=False)
        self.query_one(IncidentList).focus()
        self._watch_terminal()
        self._mounted = True
        if self.service is None:
            # The open started in its worker as the widgets were built (done already on a quick
            # disk: its data is in the first frame). Waiting for it here would only delay the
            # frame: Textual's first layout passes and the open share one interpreter.
            if not self._take_open_outcome(None):
                # Still opening: the screen is painted and answers meanwhile (q quits).
                self.query_one(StatusHeader).update(Text(" incident-tui · opening the database…", style="bold"))
        else:
            self._watch_lock_waits()
            self._start()

    # --- opening the database, waiting for its lock ---------------------------------------

    @dataclass
    class StoreOpened(Message):
        db: Any
        service: IncidentService
        incidents: list[Incident]  # read in the worker too: what the first frame lists

    @dataclass
    class StoreOpenFailed(Message):
        message: str

    @dataclass
    class LockWaiting(Message):
        """A store call in a worker is waiting for another process's lock; ``holder`` says whose."""

        holder: str

    def _open_store(self) -> None:
        self._opening = True
        self._open_worker()

    def _opening_ends(self, outcome: Message) -> None:
        """In the open worker: keep the outcome for on_mount (if it has not run yet) and post it."""
        self._open_outcome = outcome
        self.post_message(outcome)

    def _take_open_outcome(self, message: Message | None) -> bool:
        """Apply the open's outcome once (``message``: the one being handled, or None from on_mount)."""
        outcome = self._open_outcome
        if self._open_taken or not self._mounted or outcome is None or message not in (None, outcome):
            return False
        self._open_taken = True
        if isinstance(outcome, self.StoreOpened):
            self._opened(outcome.db, outcome.service, outcome.incidents)
        elif isinstance(outcome, self.StoreOpenFailed):
            self._open_failed(outcome.message)
        return True

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def _open_worker(self) -> None:
        # In a worker: another process may hold the lock for seconds (or be stopped), and the
        # screen must keep answering q meanwhile. The wait has a deadline (lock_timeout).
        from incident_tui.config import resolve_lock_timeout
        from incident_tui.services.incidents import IncidentService
        from incident_tui.store.storage import open_db

        try:
            db = open_db(self.db_path, lock_timeout=resolve_lock_timeout(self.config),
                         holder_name="incident-tui dashboard", on_lock_wait=self._lock_wait)
        except _WaitAbandoned:
            return
        except EXPECTED as exc:  # a bug is not caught: on_worker_state_changed ends the app with it
            self._opening_ends(self.StoreOpenFailed(_first_line(exc)))
            return
        if get_current_worker().is_cancelled:
            db.close()
            return
        service = IncidentService(db, config=self.config, clock=self.clock)
        try:
            # Nothing else reads the database yet; the lock is taken as every read takes it.
            incidents = self.read(service.list, include_closed=self.show_closed)
        except _WaitAbandoned:
            db.close()
            return
        except EXPECTED as exc:
            db.close()
            self._opening_ends(self.StoreOpenFailed(_first_line(exc)))
            return
        self._opening_ends(self.StoreOpened(db, service, incidents))

    def _watch_lock_waits(self) -> None:
        storage = getattr(self.db, "storage", None)
        if storage is not None and hasattr(storage, "on_lock_wait") and storage.on_lock_wait is None:
            storage.on_lock_wait = self._lock_wait

    def _lock_wait(self, holder, waited: float) -> None:
        """Called by the store between polls of a lock wait, in the waiting thread."""
        try:
            worker = get_current_worker()
        except NoActiveWorker:
            return  # the UI thread itself: nothing can be painted until it returns
        if worker.is_cancelled:
            raise _WaitAbandoned
        if waited >= LOCK_WAIT_SHOWN_AFTER:
            text = f"held by {holder}" if holder is not None else "held by another process"
            if text != getattr(worker, "_lock_wait_shown", None):
                worker._lock_wait_shown = text  # type: ignore[attr-defined]  # once per holder, not per poll
                self.post_message(self.LockWaiting(text))

    @on(StoreOpened)
    def _store_opened(self, message: StoreOpened) -> None:
        self._take_open_outcome(message)  # unless on_mount took it (or will: not mounted yet)

    @on(StoreOpenFailed)
    def _store_open_failed(self, message: StoreOpenFailed) -> None:
        self._take_open_outcome(message)

    @on(LockWaiting)
    def _lock_waiting(self, message: LockWaiting) -> None:
        line = f"waiting for the database lock {message.holder}…"
        if self.service is None:
            self.query_one(StatusHeader).update(Text(f" incident-tui · {line} (q quits)", style="bold"))
        elif self.busy:
            self._set_busy(line)

    def _quits_while_opening(self, event: events.Event) -> bool:
        # q and ctrl+c end a dashboard that waits for the database lock at once, queue or not.
        if self.service is not None or not isinstance(event, events.Key):
            return False
        if event.key in ("ctrl+c", "ctrl+q"):
            return True
        active = self.active_bindings.get(event.key)
        return active is not None and active.binding.action in ("quit", "app.quit")

    def action_help_quit(self) -> None:
        # ctrl+c quits at once while the database is still opening (there is nothing to lose).
        if self.service is None:
            self.exit()
        else:
            super().action_help_quit()

    def _opened(self, db, service: IncidentService, incidents: list[Incident]) -> None:
        self.db, self.service = db, service
        self._watch_lock_waits()
        self._start(incidents)

    def _open_failed(self, message: str) -> None:
        # The CLI prints this one line after the terminal is restored, and exits non-zero.
        self.load_error = message
        self.exit(return_code=1)

    def _start(self, incidents: list[Incident] | None = None) -> None:
        self.query_one("#main").display = True
        self.reload(incidents)
        # The whole DB lives in memory for the app's lifetime; a full collection walking it is a
        # 25–45 ms pause at 50k events. Freezing moves what is loaded now out of the collector's way.
        gc.freeze()
        self._resume_gc()
        # With the start-up frozen, full collections would come every few dozen keys: they wait
        # for a quiet moment instead (idle_gc.py).
        self.idle_gc.start()
        self.set_interval(LOOK_EVERY, self.idle_gc.look)
        # No app-wide clock: the list, the header and the details each tick on their own timer.
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.poll_store)
        self._start_presence()

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def _start_presence(self) -> None:
        path = self.db_path or getattr(getattr(self.db, "storage", None), "path", None)
        if not self._presence_wanted or path is None:
            return
        from incident_tui.tui.presence import PresenceTracker

        self.presence = tracker = PresenceTracker(self, path)
        tracker.start(self.query_one(StatusHeader))  # the header shows who else is here

    @on(ViewersChanged)
    def _viewers_changed(self, message: ViewersChanged) -> None:
        self.show_viewers(message.line)

    @on(PresenceOff)
    def _presence_off(self, message: PresenceOff) -> None:
        self.notify(f"presence is off: {message.error}", severity="warning", markup=False)

    def show_viewers(self, line: str) -> None:
        """Who else has the selected incident open ("bo, cy viewing"), in the header."""
        header = self.query_one(StatusHeader)
        header.viewers = line
        header.show(self.incidents, self.clock(), busy=self.busy, compact_details=self._summary())

    def on_unmount(self) -> None:
        self._resume_gc()
        self.idle_gc.stop()
        self.typeahead.stop()
        if self.presence is not None:
            self.presence.stop()
        # What is still queued reaches the store before the file closes (results are not shown).
        self.writer.drain_now()
        if self._owns_db and self.db is not None:
            with self.db_lock:  # a write half-way in a worker finishes before the file closes
                self.db.close()

    # --- the terminal goes away ------------------------------------------------------

    def _watch_terminal(self) -> None:
        """SSH drops, the tmux session is killed: the process must not outlive its terminal.

        SIGHUP is the usual word for it; a hung-up or closed terminal (POLLHUP on stdin) is
        watched too, because the input thread would otherwise spin on end-of-file forever.
        """
        if self.is_headless:
            return
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self.terminal_lost, "hangup")
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no SIGHUP
            pass
        try:
            fd = sys.__stdin__.fileno()
        except (AttributeError, ValueError, OSError):
            return
        threading.Thread(target=self._poll_terminal, args=(fd,), name="terminal-watch", daemon=True).start()

    def _poll_terminal(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLHUP | select.POLLERR | select.POLLNVAL)
        while not self._terminal_gone:
            try:
                events_ = poller.poll(500)
            except (OSError, ValueError):
                events_ = [(fd, select.POLLNVAL)]
            if any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in events_):
                try:
                    self.call_from_thread(self.terminal_lost, "terminal closed")
                except RuntimeError:  # the app is already gone
                    pass
                return

    def terminal_lost(self, why: str = "hangup") -> None:
        """Keep what was typed, end the app; if ending hangs on the dead terminal, end the process."""
        if self._terminal_gone:
            return
        self._terminal_gone = True
        threading.Thread(target=self._exit_deadline, name="exit-deadline", daemon=True).start()
        self._save_note_line(why)
        self.exit(return_code=129)

    def _save_note_line(self, why: str) -> None:
        # The words typed on the note line but not stamped become a note, saying so.
        try:
            text = self.query_one(NoteInput).value.strip()
        except Exception:
            return
        if not text or self.current is None or self.service is None:
            return
        try:
            with self.db_lock:
                self.service.note(self.current.id, f"{text} (typed, not sent: {why})", before_impact=True)
        except EXPECTED:
            pass  # nowhere left to say it; the store's journal keeps what was written before

    @staticmethod
    def _exit_deadline(limit: float = 5.0) -> None:
        time.sleep(limit)
        os._exit(129)  # every write is already journaled and synced; nothing half-written remains

    # --- keys in -------------------------------------------------------------------

    async def _dispatch_message(self, message) -> None:
        # Counted so the type-ahead queue knows when the app is half-way through a message.
        self.dispatching += 1
        try:
            await super()._dispatch_message(message)
        finally:
            self.dispatching -= 1

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste, events.MouseEvent)):
            self.idle_gc.touched()
        if isinstance(event, events.Key) and event.key == "ctrl+j" and not event.is_forwarded:
            event = _as_enter(event)
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if self.typeahead.hold(event):
                return  # handed back by the type-ahead queue once the previous key has landed
            if isinstance(event, events.Paste) and self._route_paste(event):
                return
            if self._selection_timer is not None and not self._moves_list_cursor(event):
                self._show_selected()  # a key that acts on the incident sees its panes first
        await super().on_event(event)

    def _route_paste(self, event: events.Paste) -> bool:
        """A paste never loses lines: the note line takes them one note per line; another one-line
        field joins them with spaces; on the dashboard with nothing to type into, it becomes a note."""
        focused = self.focused
        if isinstance(focused, (NoteInput, TextArea)):
            return False
        if isinstance(focused, Input):
            joined = " ".join(line.strip() for line in event.text.splitlines() if line.strip())
            if joined != event.text:
                focused._forward_event(events.Paste(joined))
                return True
            return False
        if isinstance(self.screen, ModalScreen) or self.current is None or not event.text.strip():
            return False
        self.action_note()
        note = self.query_one(NoteInput)
        self.screen.set_focus(note)
        note._forward_event(event)
        return True

    def on_resize(self) -> None:
        if self.size.width != self._painted_width:
            self.call_after_refresh(self._render_if_resized)

    def _render_if_resized(self) -> None:
        # Asked for after the next frame: the open (or an earlier resize) may have painted this width
        # already, and then only the header is set again (its right-hand side goes by its own width,
        # known once laid out); the list cuts its rows when painted, the timeline re-wraps itself.
        # Nothing to paint while the database opens: the header keeps saying so (not "0 active").
        if self.service is None:
            return
        if self.size.width != self._painted_width:
            self.render_all()
        else:
            self.query_one(StatusHeader).show(self.incidents, self.clock(), busy=self.busy,
                                              compact_details=self._summary())

    @property
    def narrow(self) -> bool:
        return self.size.width < NARROW_WIDTH

    # --- data in -------------------------------------------------------------------

    def read(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        with self.db_lock:
            return fn(*args, **kwargs)

    def reload(self, incidents: list[Incident] | None = None) -> None:
        """Read the incidents (unless just read: ``incidents``) and the selected one's timeline, then paint."""
        if self.service is None:  # still opening
            return
        self.incidents = incidents if incidents is not None else self.read(self.service.list,
                                                                           include_closed=self.show_closed)
        self._warn_skipped()
        self.render_all()

    def _warn_skipped(self) -> None:
        # A hand-damaged document is left out of the view; say so once, naming it and the field.
        for line in getattr(self.service.repo, "skipped", ()):
            if line not in self._skipped_warned:
                self._skipped_warned.add(line)
                self.notify(f"{line} (left out)", severity="warning", timeout=12, markup=False)

    def render_all(self) -> None:
        self._painted_width = self.size.width
        now = self.clock()
        incident_list = self.query_one(IncidentList)
        incident_list.show(self.incidents, now, compact=self.narrow)
        self.query_one(StatusHeader).show(self.incidents, now, busy=self.busy, compact_details=self._summary())
        self.show_current()

    def _summary(self) -> Incident | None:
        return self.current if self.narrow else None

    def show_current(self) -> None:
        now = self.clock()
        self.current = self.query_one(IncidentList).current_incident
        incident = self.current
        self._shown_id = incident.id if incident else None
        self._show_details(now)
        timeline = self.query_one(TimelinePane)
        events = self.read(self.service.timeline_of, incident) if incident else []
        if incident:
            self._warn_skipped()
        timeline.show(incident.id if incident else None, events, now)
        timeline.set_title(self._timeline_title(incident))
        if self.narrow:
            self.query_one(StatusHeader).show(self.incidents, now, busy=self.busy, compact_details=incident)

    def _show_details(self, now: datetime) -> None:
        incident = self.current
        playbook = playbook_for(incident.category, self.config.playbooks) if incident and incident.category else None
        self.query_one(DetailsPanel).show(incident, now, playbook)

    def _timeline_title(self, incident: Incident | None) -> Text:
        if incident is None:
            return Text("2 Timeline")
        return Text(f"2 Timeline · {incident.id} · {incident.severity.value} · {incident.stage.value}")

    @dataclass
    class StoreChanged(Message):
        """Another terminal or the CLI wrote to the database: the screen reads it again."""

    @dataclass
    class StorePollFailed(Message):
        """The file vanished or is damaged: said once, the screen stays."""

        error: Exception

    def poll_store(self) -> None:
        """Pick up what another terminal or the CLI wrote (a stat when nothing changed).

        The look runs in a thread worker, never on the UI thread; it posts ``StoreChanged`` and the
        refresh happens here, on the UI thread. One poll at a time: a slow one is not stacked on.
        """
        if self.service is None or self._polling:
            return
        self._polling = True
        self.run_worker(self._poll_worker, thread=True, group="poll", exit_on_error=False)

    def _poll_worker(self) -> None:
        """Never waits: while a worker of ours is writing, or another process holds the lock (maybe
        stopped), this poll is skipped and the next one catches up."""
        try:
            refresh = getattr(self.db.storage, "refresh", None)
            if refresh is None or not self.db_lock.acquire(blocking=False):
                return
            try:
                changed = refresh(wait=False)
            except EXPECTED as exc:  # a vanished or damaged file: say so, keep the screen
                self.post_message(self.StorePollFailed(exc))
                return
            finally:
                self.db_lock.release()
            if changed:
                self.post_message(self.StoreChanged())
        finally:
            self._polling = False

    @on(StoreChanged)
    def _store_changed(self, _message: StoreChanged) -> None:
        self.reload()
        self._refresh_side_pane()

    @on(StorePollFailed)
    def _store_poll_failed(self, message: StorePollFailed) -> None:
        text = describe(message.error)
        if text != self._poll_error:
            self._poll_error = text
            self.notify(text, severity="error", timeout=12, markup=False)

    def store_lock(self) -> contextlib.AbstractContextManager[Any]:
        """For a worker about to write: wait for the database lock before taking ``db_lock``.

        The wait (bounded by lock_timeout) then never holds ``db_lock``, so the screen's reads
        go on while another process holds the database.
        """
        hold = getattr(getattr(self.db, "storage", None), "hold_lock", None)
        return hold() if hold is not None else contextlib.nullcontext()

    def _refresh_side_pane(self) -> None:
        """The visible side pane follows other terminals too (the postmortem's computed fields, metrics)."""
        name = self.query_one(ContentSwitcher).current
        pane = self.panes.get(name or "")
        if name == "postmortem" and pane is not None:
            pane.reload()
        elif name == "metrics" and pane is not None:
            with self.db_lock:
                pane.refresh_metrics()

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _mark_focused_pane(self, _event: events.DescendantFocus | events.DescendantBlur) -> None:
        # A class instead of `.pane:focus-within`: with that rule Textual restyles every widget
        # of a pane on every focus move inside it (~0.5 s per Tab in the postmortem form).
        if isinstance(self.screen, ModalScreen):
            return
        focused = self.screen.focused
        pane = next((n for n in focused.ancestors_with_self if n.has_class("pane")), None) if focused else None
        old = getattr(self, "_focused_pane", None)
        if pane is not old:
            if old is not None:
                old.remove_class("-focus-within")
            if pane is not None:
                pane.add_class("-focus-within")
            self._focused_pane = pane

    @on(IncidentList.Selected)
    def incident_selected(self, event: IncidentList.Selected) -> None:
        self.follow_selection(event.incident_id)

    def follow_selection(self, incident_id: str | None) -> None:
        """The list's cursor moved to ``incident_id``: called by the list itself, in the same frame."""
        # Moving fast through a long list: the cursor moves at once, the timeline and the other
        # panes follow once it rests for selection_delay (like lazygit's diff view). Keys act on
        # the incident under the cursor from the first moment.
        if self._selection_timer is not None:
            self._selection_timer.stop()
            self._selection_timer = None
        self.current = self.query_one(IncidentList).current_incident
        if incident_id == self._shown_id:
            return  # already on screen: render_all showed it, or the cursor came back to it
        if self.selection_delay <= 0:
            self._show_selected()
        else:
            self._selection_timer = self.set_timer(self.selection_delay, self._rest_selection)

    def _rest_selection(self) -> None:
        # More keys already read (a held arrow, a burst): they are handled first, painted once.
        if self.typeahead.pending:
            self._selection_timer = self.set_timer(self.selection_delay, self._rest_selection)
        else:
            self._show_selected()

    def _moves_list_cursor(self, event: events.Event) -> bool:
        return (isinstance(event, events.Key) and isinstance(self.focused, IncidentList)
                and event.key in IncidentList.CURSOR_KEYS)

    def _show_selected(self) -> None:
        if self._selection_timer is not None:
            self._selection_timer.stop()
        self._selection_timer = None
        self.show_current()
        self.call_later(self._sync_side_panes)

    def _sync_side_panes(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        self._show_pane_for_incident(switcher.current)

    def _show_pane_for_incident(self, name: str | None) -> None:
        pane = self.panes.get(name or "")
        incident = self.current
        if pane is None or incident is None:
            return
        if name == "diff" and incident.prompt_version is not None:
            pane.show_incident(incident.prompt_id, incident.prompt_version, incident_id=incident.id)
        elif name == "postmortem":
            pane.show_incident(incident.id)
        elif name == "metrics":
            with self.db_lock:
                pane.refresh_metrics()

    # --- writes --------------------------------------------------------------------

    def write(self, fn: Callable[..., Any], *args, done: Callable[[Any], None] | None = None,
              busy: str = "saving", failed: Callable[[Exception], bool] | None = None, **kwargs) -> None:
        """Queue a service call on the app's one writer; its error becomes a one-line notification.

        Calls are applied in the order they were made. ``failed`` (if given) gets the error first,
        e.g. to give typed text back; it returns True when it told the user itself.
        """
        self._set_busy(busy)
        self.writer.submit(partial(fn, *args, **kwargs), done=partial(self._written, done),
                           failed=partial(self._write_failed, failed, args))

    def _write_locks(self) -> contextlib.ExitStack:
        """The store's lock first (its wait never holds ``db_lock``), then ``db_lock``."""
        stack = contextlib.ExitStack()
        stack.enter_context(self.store_lock())
        stack.enter_context(self.db_lock)
        return stack

    @on(WriteDone)
    @on(WriteFailed)
    def _write_finished(self, message: WriteDone | WriteFailed) -> None:
        message.stop()
        message.writer.finish(message)

    def _written(self, done: Callable[[Any], None] | None, result: Any) -> None:
        self._set_busy("")
        self.reload()
        self._refresh_side_pane()
        if done is not None:
            done(result)

    def _write_failed(self, then: Callable[[Exception], bool] | None, args: tuple, error: Exception) -> None:
        self._set_busy("")
        if isinstance(error, _WaitAbandoned):
            return  # the app is quitting while the write waited for another process's lock
        if isinstance(error, LifecycleError):
            self._lifecycle_refused(error, args)
            return
        if then is not None and then(error):
            return  # handled: the caller asks the user instead
        show_failure(self, error, timeout=8)

    @on(Worker.StateChanged)
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure surfaces: any worker that ends in ERROR is shown as one
        line (a bug as "bug: …", its traceback logged) and the busy mark goes. Workers of widgets
        run on the app (``self.app.run_worker``), so their state changes arrive here too."""
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        if isinstance(error, _WaitAbandoned):
            return  # the app is quitting
        if event.worker.group == "open" and self.service is None:
            self._open_failed(describe(error))  # the dashboard cannot start: the CLI prints the line
            return
        self._set_busy("")
        show_failure(self, error)

    def notify(self, message: str | Content | Text, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notification is literal: messages carry prompt ids, titles and error texts from outside,
        and ``[/]`` in one must show as typed, not crash the app. Styled messages pass a Text or Content;
        a plain string is never parsed, whatever ``markup`` says. Escapes go; bidi overrides and other
        invisible characters are shown, not applied. (Widget.notify comes here too.)"""
        markup = False
        if isinstance(message, (Text, Content)):
            content = message if isinstance(message, Content) else Content.from_rich_text(message)
            text = neutralise(clean(content.plain))
            if text == content.plain:  # else the control characters go, and the styles with them
                text, markup = content.markup, True
        else:
            text = neutralise(clean(str(message)))
        super().notify(text, title=neutralise(clean(title, multiline=False)), severity=severity, timeout=timeout,
                       markup=markup)

    def _set_busy(self, text: str) -> None:
        self.busy = text
        if not self.is_running or self._exit:
            return  # shutting down: the header may be gone
        self.query_one(StatusHeader).show(self.incidents, self.clock(), busy=text, compact_details=self._summary())

    def _lifecycle_refused(self, exc: LifecycleError, args: tuple) -> None:
        from incident_tui.tui.screens.choice import ChoiceScreen
        from incident_tui.tui.screens.form import Field, FormScreen

        self._set_busy("")
        if not exc.needs_override:
            self.notify(str(exc), severity="warning", timeout=8, markup=False)
            return
        incident_id, target = args[0], args[1]

        def overridden(values: dict[str, str] | None) -> None:
            if values and values["reason"].strip():
                self.write(self.service.advance, incident_id, target, reason=values["reason"],
                           done=lambda inc: self.notify(f"{inc.id} moved to {inc.stage.value}; override stamped", markup=False))

        def chosen(choice: str | None) -> None:
            # The incident to contain is the one refused, even if the list moved meanwhile.
            if choice in ("rollback", "kill") and (self.current is None or self.current.id != incident_id):
                self.query_one(IncidentList).select_id(incident_id)
                self.show_current()
            if choice == "rollback":
                self.action_rollback()
            elif choice == "kill":
                self.action_kill_switch()
            elif choice == "override":
                self.push_screen(
                    FormScreen(
                        "Contain first: override",
                        [Field("reason", "Override reason (goes on the timeline)",
                               placeholder="why diagnose before containing?")],
                        submit="Override and advance",
                        validate=lambda v: None if v["reason"].strip() else "a reason is required to override",
                    ),
                    overridden,
                )

        # Focus is on the choices, not in a text box: r and K do what they say.
        self.open_dialog(
            ChoiceScreen(
                "Contain first", [
                    ("rollback", Text("r  Roll back to the previous good version (confirms first)")),
                    ("kill", Text("K  Use the kill switch (confirms first)")),
                    ("override", Text("o  Override: diagnose before containing, with a reason")),
                ],
                intro=f"{exc}.", keys={"r": "rollback", "K": "kill", "o": "override"},
            ),
            chosen,
        )

    def open_dialog(self, dialog, callback=None) -> bool:
        """Open a dialog that a finished worker asks for; if another dialog is open, say so instead
        of stacking a second one under the user's keys."""
        if isinstance(self.screen, ModalScreen):
            title = getattr(dialog, "choice_title", "") or getattr(dialog, "form_title", "") or "a question"
            self.notify(f"{title}: close the open dialog first, then try again.", severity="warning",
                        timeout=8, markup=False)
            return False
        self.push_screen(dialog, callback)
        return True

    def _need_incident(self) -> Incident | None:
        if self.current is None:
            self.notify("No incident selected: press d to declare one, or 1 to pick one.", severity="warning", markup=False)
        return self.current

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """App keys are off while a dialog is open, so a 'r' typed in a dialog never rolls back,
        and until the database is open."""
        if action in APP_ACTIONS and (isinstance(self.screen, ModalScreen) or self.service is None):
            return False
        return True

    # --- actions: panes ----------------------------------------------------------------

    async def action_pane(self, name: str) -> None:
        if name == "incidents":
            if self.screen.maximized is not None:
                self.screen.minimize()
            self.query_one(IncidentList).focus()
            return
        switcher = self.query_one(ContentSwitcher)
        if name != "timeline" and await self._ensure_pane(name) is None:
            self.notify(f"The {name} pane is not part of this build.", severity="warning", markup=False)
            return
        switcher.current = name
        self._show_pane_for_incident(name)
        if name == "timeline":
            self.query_one("#timeline-events").focus()
        else:
            pane = self.panes[name]
            target = getattr(pane, "focus_target", None)
            (target() if callable(target) else pane).focus()

    @property
    def escape_to_minimize(self) -> bool:
        # In a zoomed pane escape first leaves the field being typed in (the pane's own escape);
        # pressed again, out of the field, it restores the layout.
        if isinstance(self.focused, (Input, TextArea)):
            return False
        return super().escape_to_minimize

    def action_zoom(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.focused
        if focused is None:
            return
        node = focused
        while node is not None and not node.has_class("pane"):
            node = node.parent
        if node is not None:
            # Set directly: maximize() refuses containers, and every pane is one.
            screen.maximized = node

    def action_help(self) -> None:
        from incident_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.keymap_overrides))

    def action_toggle_closed(self) -> None:
        self.show_closed = not self.show_closed
        self.reload()
        self.notify("Showing closed incidents too" if self.show_closed else "Closed incidents hidden", timeout=3, markup=False)

    def action_cycle_filter(self) -> None:
        name = self.query_one(TimelinePane).cycle_filter(self.clock())
        self.notify(f"Timeline filter: {name}", timeout=2, markup=False)

    # --- actions: the outage ------------------------------------------------------------
