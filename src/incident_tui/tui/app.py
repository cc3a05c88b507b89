"""The dashboard: wires the panes to the services and maps every key to an action.

All data access goes through ``self.db_lock`` so the UI thread's reads never race a
worker's write; writes and hooks run in thread workers so the screen never waits.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, Input

from incident_tui.config import Config
from incident_tui.domain.lifecycle import LifecycleError, next_stage
from incident_tui.domain.models import ContainmentAction, Incident, Severity, Stage, TriageCategory
from incident_tui.domain.playbooks import playbook_for
from incident_tui.domain.samples import common_phrases
from incident_tui.domain.times import TimeParseError, local_now, parse_when
from incident_tui.services.incidents import ContainmentPlan, IncidentService, ServiceError
from incident_tui.tui.bindings import KEYS, app_bindings
from incident_tui.tui.commands import IncidentCommands
from incident_tui.tui.screens.choice import ChoiceScreen
from incident_tui.tui.screens.form import ConfirmScreen, Field, FormScreen
from incident_tui.tui.screens.help import HelpScreen
from incident_tui.tui.screens.samples import SamplesScreen
from incident_tui.tui.widgets.details import DetailsPanel
from incident_tui.tui.widgets.header import StatusHeader
from incident_tui.tui.widgets.incident_list import IncidentList
from incident_tui.tui.widgets.keybar import KeyBar
from incident_tui.tui.widgets.timeline import NoteInput, TimelinePane

NARROW_WIDTH = 100
APP_ACTIONS = {k.action.split("(")[0] for k in KEYS} - {"help", "quit"}


class IncidentApp(App):
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
    ) -> None:
        super().__init__()
        self.db = db
        self.db_path = db_path
        self.config = config or Config()
        self.clock = clock
        self.poll_interval = poll_interval
        self.selection_delay = selection_delay
        self._selection_timer = None
        self.db_lock = threading.RLock()
        # Without a db the app opens db_path itself, after its first frame (see _open_store).
        self.service = IncidentService(db, config=self.config, clock=clock) if db is not None else None
        self.load_error = ""
        self._owns_db = db is None
        self.incidents: list[Incident] = []
        self.current: Incident | None = None
        self.show_closed = False
        self.busy = ""
        self.keymap_overrides = dict(self.config.keys)
        self.panes: dict[str, Any] = {}
        self._painted_width = 0

    # --- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                incidents = IncidentList(id="incidents", classes="pane")
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

    def _pane_factories(self) -> dict[str, tuple[str, Callable[[], Any]]]:
        """Panes 3–5: built and mounted the first time they are shown, so start-up stays quick."""

        def diff():
            from incident_tui.tui.widgets.diff_pane import DiffPane

            return DiffPane(self.service.prompts)

        def metrics():
            from incident_tui.tui.widgets.metrics_pane import MetricsPane

            return MetricsPane(self.db, clock=self.clock)

        def postmortem():
            from incident_tui.services.postmortem import PostmortemService
            from incident_tui.tui.widgets.postmortem_form import PostmortemPane

            class DashboardPostmortem(PostmortemPane):
                """Focusable as a whole, so 1–5 and the outage keys still work until enter starts editing."""

                can_focus = True
                BINDINGS = [Binding("enter", "edit", "edit fields", id="postmortem.edit", priority=True)]

                def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
                    if action == "edit":  # only while the pane itself, not one of its fields, has focus
                        return self.screen.focused is self
                    return super().check_action(action, parameters)

                def action_edit(self) -> None:
                    self.screen.set_focus(super().focus_target())

                def focus_target(self):
                    return self

            return DashboardPostmortem(PostmortemService(self.db, self.service, clock=self.clock), lock=self.db_lock)

        return {
            "diff": ("3 Diff · failing vs last good", diff),
            "postmortem": ("4 Postmortem", postmortem),
            "metrics": ("5 Metrics · across incidents", metrics),
        }

    async def _ensure_pane(self, name: str) -> Any | None:
        if name in self.panes:
            return self.panes[name]
        factory = self._pane_factories().get(name)
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
                            severity="warning")
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)
        self.query_one(IncidentList).focus()
        if self.service is None:
            # Paint first, then open: the terminal answers at once even on a large database.
            self.query_one(StatusHeader).update(Text(" incident-tui · opening the database…", style="bold"))
            # After the first paint: the open holds the GIL for a while and would delay it.
            self.call_after_refresh(self._open_store)
        else:
            self._start()

    def _open_store(self) -> None:
        # On the UI thread, right after the first paint: nothing is interactive yet, and a worker
        # thread would only add GIL hand-offs to the ~0.1 s the open takes.
        from incident_tui.store.storage import StoreError, open_db

        try:
            db = open_db(self.db_path)
        except (StoreError, OSError) as exc:
            self._open_failed(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        self._opened(db, IncidentService(db, config=self.config, clock=self.clock))

    def _opened(self, db, service: IncidentService) -> None:
        self.db, self.service = db, service
        self._start()

    def _open_failed(self, message: str) -> None:
        # The CLI prints this one line after the terminal is restored, and exits non-zero.
        self.load_error = message
        self.exit(return_code=1)

    def _start(self) -> None:
        self.reload()
        # The whole DB lives in memory for the app's lifetime; a full collection walking it is a
        # 25–45 ms pause at 50k events. Freezing moves what is loaded now out of the collector's way.
        gc.freeze()
        self.set_interval(1.0, self.tick)
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.poll_store)

    def on_unmount(self) -> None:
        if self._owns_db and self.db is not None:
            self.db.close()

    def on_resize(self) -> None:
        if self.size.width != self._painted_width:
            self.call_after_refresh(self.render_all)

    @property
    def narrow(self) -> bool:
        return self.size.width < NARROW_WIDTH

    # --- data in -------------------------------------------------------------------

    def read(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        with self.db_lock:
            return fn(*args, **kwargs)

    def reload(self) -> None:
        """Read the incidents and the selected one's timeline, then paint."""
        if self.service is None:  # still opening
            return
        self.incidents = self.read(self.service.list, include_closed=self.show_closed)
        self.render_all()

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
        incident_id = self.query_one(IncidentList).current_id
        self.current = next((i for i in self.incidents if i.id == incident_id), None)
        incident = self.current
        self._show_details(now)
        timeline = self.query_one(TimelinePane)
        events = self.read(self.service.timeline, incident.id) if incident else []
        timeline.show(incident.id if incident else None, events, now)
        timeline.border_title = self._timeline_title(incident)
        if self.narrow:
            self.query_one(StatusHeader).show(self.incidents, now, busy=self.busy, compact_details=incident)

    def _show_details(self, now: datetime) -> None:
        incident = self.current
        playbook = playbook_for(incident.category, self.config.playbooks) if incident and incident.category else None
        self.query_one(DetailsPanel).show(incident, now, playbook)

    def _timeline_title(self, incident: Incident | None) -> str:
        if incident is None:
            return "2 Timeline"
        return f"2 Timeline · {incident.id} · {incident.severity.value} · {incident.stage.value}"

    def tick(self) -> None:
        """Once a second: the elapsed clocks move."""
        now = self.clock()
        self.query_one(IncidentList).show(self.incidents, now, compact=self.narrow)
        self.query_one(StatusHeader).show(self.incidents, now, busy=self.busy, compact_details=self._summary())
        if not self.narrow:
            self._show_details(now)

    def poll_store(self) -> None:
        """Pick up what another terminal or the CLI wrote (a stat when nothing changed)."""
        refresh = getattr(self.db.storage, "refresh", None)
        if refresh is None:
            return
        if self.read(refresh):
            self.reload()
            self._refresh_side_pane()

    def _refresh_side_pane(self) -> None:
        """The visible side pane follows other terminals too (the postmortem's computed fields, metrics)."""
        name = self.query_one(ContentSwitcher).current
        pane = self.panes.get(name or "")
        if name == "postmortem" and pane is not None:
            pane.reload()
        elif name == "metrics" and pane is not None:
            with self.db_lock:
                pane.refresh_metrics()

    @on(IncidentList.Selected)
    def incident_selected(self, _event: IncidentList.Selected) -> None:
        # Moving fast through a long list: the cursor moves at once, the timeline and the other
        # panes follow once it rests for selection_delay (like lazygit's diff view).
        if self._selection_timer is not None:
            self._selection_timer.stop()
            self._selection_timer = None
        if self.selection_delay <= 0:
            self._show_selected()
        else:
            self._selection_timer = self.set_timer(self.selection_delay, self._show_selected)

    def _show_selected(self) -> None:
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
            pane.show_incident(incident.prompt_id, incident.prompt_version)
        elif name == "postmortem":
            pane.show_incident(incident.id)
        elif name == "metrics":
            with self.db_lock:
                pane.refresh_metrics()

    # --- writes --------------------------------------------------------------------

    def write(self, fn: Callable[..., Any], *args, done: Callable[[Any], None] | None = None,
              busy: str = "saving", **kwargs) -> None:
        """Run a service call in a thread worker; errors become one-line notifications."""
        self._set_busy(busy)
        self._write_worker(fn, args, kwargs, done)

    @work(thread=True, group="writes", exit_on_error=False)
    def _write_worker(self, fn, args, kwargs, done) -> None:
        try:
            with self.db_lock:
                result = fn(*args, **kwargs)
        except LifecycleError as exc:
            self.call_from_thread(self._lifecycle_refused, exc, args)
            return
        except (ServiceError, TimeParseError, ValueError, LookupError, OSError) as exc:
            self.call_from_thread(self._failed, str(exc))
            return
        self.call_from_thread(self._written, result, done)

    def _written(self, result: Any, done: Callable[[Any], None] | None) -> None:
        self._set_busy("")
        self.reload()
        self._refresh_side_pane()
        if done is not None:
            done(result)

    def _failed(self, message: str) -> None:
        self._set_busy("")
        self.notify(message.splitlines()[0] if message else "failed", severity="error", timeout=8)

    def _set_busy(self, text: str) -> None:
        self.busy = text
        self.query_one(StatusHeader).show(self.incidents, self.clock(), busy=text, compact_details=self._summary())

    def _lifecycle_refused(self, exc: LifecycleError, args: tuple) -> None:
        self._set_busy("")
        if not exc.needs_override:
            self.notify(str(exc), severity="warning", timeout=8)
            return
        incident_id, target = args[0], args[1]

        def overridden(values: dict[str, str] | None) -> None:
            if values and values["reason"].strip():
                self.write(self.service.advance, incident_id, target, reason=values["reason"],
                           done=lambda inc: self.notify(f"{inc.id} moved to {inc.stage.value}; override stamped"))

        self.push_screen(
            FormScreen(
                "Contain first",
                [Field("reason", "Override reason (goes on the timeline)", placeholder="why diagnose before containing?")],
                submit="Override and advance",
                intro=f"{exc}.\n\nPress r to roll back or K for the kill switch instead — or override:",
                validate=lambda v: None if v["reason"].strip() else "a reason is required to override",
            ),
            overridden,
        )

    def _need_incident(self) -> Incident | None:
        if self.current is None:
            self.notify("No incident selected: press d to declare one, or 1 to pick one.", severity="warning")
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
            self.notify(f"The {name} pane is not part of this build.", severity="warning")
            return
        switcher.current = name
        self._show_pane_for_incident(name)
        if name == "timeline":
            self.query_one("#timeline-events").focus()
        else:
            pane = self.panes[name]
            target = getattr(pane, "focus_target", None)
            (target() if callable(target) else pane).focus()

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
        self.push_screen(HelpScreen(self.keymap_overrides))

    def action_toggle_closed(self) -> None:
        self.show_closed = not self.show_closed
        self.reload()
        self.notify("Showing closed incidents too" if self.show_closed else "Closed incidents hidden", timeout=3)

    def action_cycle_filter(self) -> None:
        name = self.query_one(TimelinePane).cycle_filter(self.clock())
        self.notify(f"Timeline filter: {name}", timeout=2)

    # --- actions: the outage ------------------------------------------------------------

    def action_note(self) -> None:
        if self._need_incident() is None:
            return
        self.query_one(ContentSwitcher).current = "timeline"
        if self.screen.maximized is not None and self.screen.maximized is not self.query_one(TimelinePane):
            self.screen.minimize()
        self.query_one(NoteInput).focus()

    @on(Input.Submitted, "#note")
    def note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        incident = self._need_incident()
        if not text or incident is None:
            return
        note_input = self.query_one(NoteInput)

        def stamped(_event) -> None:
            # Cleared only once stored: a failed write leaves the words in the line.
            if note_input.value == event.value:
                note_input.value = ""

        self.write(self.service.note, incident.id, text, done=stamped)

    def action_star(self) -> None:
        event = self.query_one(TimelinePane).selected_event
        if event is None:
            self.notify("Select a timeline event first (2, then ↑ ↓).", severity="warning")
            return
        self.write(self.service.toggle_star, event.doc_id,
                   done=lambda e: self.notify("Starred for the postmortem" if e.starred else "Unstarred", timeout=2))

    def action_advance(self) -> None:
        incident = self._need_incident()
        if incident is None:
            return
        target = next_stage(incident.stage)
        if target is None:
            self.notify(f"{incident.id} is closed.", severity="warning")
            return

        def go(confirmed: bool = True) -> None:
            if confirmed:  # the header and the timeline show the new stage: no toast
                self.write(self.service.advance, incident.id, target)

        if target is Stage.CLOSED:
            self.push_screen(ConfirmScreen("Close incident", f"Close {incident.id}? It leaves the active list.",
                                           yes="Close"), go)
        else:
            go()

    def action_triage(self) -> None:
        incident = self._need_incident()
        if incident is None:
            return
        choices = []
        for category in TriageCategory:
            book = playbook_for(category, self.config.playbooks)
            label = Text()
            label.append(f"{category.label}", style="bold")
            label.append(f" — responds: {book.responders}\n", style="dim")
            label.append(f"  {book.actions[0]}", style="dim")
            choices.append((category.value, label))

        def chosen(value: str | None) -> None:
            if value is None:
                return
            category = TriageCategory(value)
            book = playbook_for(category, self.config.playbooks)
            intro = f"Responds: {book.responders}\n" + "\n".join(f" · {a}" for a in book.actions)
            self.push_screen(
                FormScreen(f"Triage {incident.id}: {category.label}",
                           [Field("hypothesis", "Root cause hypothesis", value=incident.hypothesis,
                                  placeholder="e.g. v7 dropped the refund policy paragraph")],
                           submit="Triage complete", intro=intro),
                lambda values: values is not None and self.write(
                    self.service.triage, incident.id, category, values["hypothesis"]),
            )

        self.push_screen(ChoiceScreen(f"Triage {incident.id}: what kind of failure is it?", choices), chosen)

    def action_rollback(self) -> None:
        incident = self._need_incident()
        if incident is None:
            return
        versions = self._known_versions(incident.prompt_id)
        if len(versions) > 1:
            try:
                default = self.read(self.service.plan_containment, incident.id, ContainmentAction.ROLLBACK)
            except (ServiceError, LookupError) as exc:
                default = None
                self.notify(str(exc), severity="warning")
            choices = []
            if default is not None:
                choices.append((str(default.to_version), f"v{default.to_version} — previous good version (default)"))
            live = default.from_version if default else incident.prompt_version
            for v in reversed(versions):
                if (default is None or v.version != default.to_version) and v.version != live:
                    note = f" — {v.note}" if getattr(v, "note", "") else ""
                    choices.append((str(v.version), f"v{v.version}{note}"))
            self.push_screen(
                ChoiceScreen(f"Roll {incident.prompt_id} back to which version?", choices,
                             intro="enter picks · esc cancels"),
                lambda value: value is not None and self._confirm_containment(
                    incident, ContainmentAction.ROLLBACK, int(value)),
            )
        else:
            self._confirm_containment(incident, ContainmentAction.ROLLBACK, None)

    def action_kill_switch(self) -> None:
        incident = self._need_incident()
        if incident is not None:
            self._confirm_containment(incident, ContainmentAction.KILL_SWITCH, None)

    def _known_versions(self, prompt_id: str) -> list:
        try:
            return self.read(self.service.prompts.versions, prompt_id)
        except Exception:  # no prompt registry for this prompt: the service falls back to version numbers
            return []

    def _confirm_containment(self, incident: Incident, action: ContainmentAction, to_version: int | None) -> None:
        try:
            plan = self.read(self.service.plan_containment, incident.id, action, to_version)
        except (ServiceError, LookupError, ValueError) as exc:
            self.notify(str(exc), severity="error")
            return
        title = "Roll back" if action is ContainmentAction.ROLLBACK else "Kill switch"
        body = Text(plan.description + "?", style="bold")
        body.append("\n\nA failing or hanging hook is shown and does not mark the incident contained.", style="dim")
        self.push_screen(ConfirmScreen(f"{title} · {incident.id}", body, yes=title),
                         lambda ok: ok and self._run_containment(plan))

    def _run_containment(self, plan: ContainmentPlan) -> None:
        name = plan.hook[0].rsplit("/", 1)[-1] if plan.hook else ""
        self._set_busy(f"running {name}…" if name else "recording")
        self._containment_worker(plan)

    @work(thread=True, group="hooks", exit_on_error=False)
    def _containment_worker(self, plan: ContainmentPlan) -> None:
        hook = self.service.run_containment_hook(plan)  # outside the lock: a slow hook blocks nobody
        try:
            with self.db_lock:
                result = self.service.record_containment(plan, hook)
        except (ServiceError, LookupError, ValueError, OSError) as exc:
            self.call_from_thread(self._failed, str(exc))
            return
        self.call_from_thread(self._containment_done, result)

    def _containment_done(self, result) -> None:
        self._set_busy("")
        self.reload()
        self.notify(result.message, severity="information" if result.contained else "error",
                    timeout=3 if result.contained else 12)

    def action_milestone(self) -> None:
        incident = self._need_incident()
        if incident is None:
            return
        choices = [
            ("impact-resolved", "User impact resolved"),
            ("root-cause", "Root cause confirmed…"),
            ("staging", "Remediation deployed to staging…"),
            ("promoted", "Remediation validated and promoted to production…"),
            ("closed", "Close the incident"),
        ]
        self.push_screen(ChoiceScreen(f"Milestone · {incident.id}", choices), lambda w: w and self._milestone(incident, w))

    def _milestone(self, incident: Incident, which: str) -> None:
        done = lambda inc: self.notify(f"Stamped: {which.replace('-', ' ')}", timeout=3)  # noqa: E731
        if which == "impact-resolved":
            self.write(self.service.milestone, incident.id, which, done=done)
        elif which == "closed":
            self.push_screen(ConfirmScreen("Close incident", f"Close {incident.id}? It leaves the active list.",
                                           yes="Close"),
                             lambda ok: ok and self.write(self.service.milestone, incident.id, "closed", done=done))
        elif which == "root-cause":
            self.push_screen(
                FormScreen("Root cause confirmed",
                           [Field("text", "What specifically changed, and why it caused this failure",
                                  value=incident.root_cause or incident.hypothesis)],
                           validate=lambda v: None if v["text"].strip() else "say what the root cause is"),
                lambda v: v and self.write(self.service.milestone, incident.id, which, text=v["text"], done=done),
            )
        else:
            latest = self._known_versions(incident.prompt_id)
            default = str(latest[-1].version) if latest else ""
            self.push_screen(
                FormScreen("Remediation version",
                           [Field("version", "Prompt version of the fix", value=default, placeholder="e.g. 8")],
                           validate=lambda v: None if v["version"].strip().isdigit() else "a version number"),
                lambda v: v and self.write(self.service.milestone, incident.id, which,
                                           version=int(v["version"]), done=done),
            )

    def action_declare(self) -> None:
        prompts = self._prompt_ids()

        def validate(values: dict[str, str]) -> str | None:
            if not values["title"].strip():
                return "a title is required"
            if not values["prompt"].strip():
                return "a prompt id is required"
            if values["version"].strip() and not values["version"].strip().lstrip("v").isdigit():
                return "version: a number such as 7 (blank = the production version)"
            if values["started"].strip():
                try:
                    parse_when(values["started"], self.clock())
                except TimeParseError as exc:
                    return str(exc)
            return None

        def declared(values: dict[str, str] | None) -> None:
            if values is None:
                return
            started = parse_when(values["started"], self.clock()) if values["started"].strip() else None
            version = int(values["version"].strip().lstrip("v")) if values["version"].strip() else None
            self.write(
                self.service.declare, title=values["title"], prompt_id=values["prompt"].strip(), version=version,
                severity=values["severity"], detected_by=values["detected"], started_at=started,
                done=self._declared, busy="declaring",
            )

        self.push_screen(
            FormScreen(
                "Declare an incident",
                [
                    Field("title", "Title", placeholder="what users see going wrong"),
                    Field("prompt", "Prompt id", placeholder="tab completes a known prompt", suggestions=prompts),
                    Field("version", "Version live now", placeholder="blank = the prompt's production version"),
                    Field("severity", "Severity", kind="select",
                          options=[("P1 — major user impact", "P1"), ("P2 — degraded", "P2"), ("P3 — minor", "P3")],
                          value="P2"),
                    Field("detected", "Detected by", kind="select",
                          options=[("alert", "alert"), ("user report", "user-report"),
                                   ("downstream system", "downstream"), ("manual discovery", "manual")]),
                    Field("started", "Impact started (optional)", placeholder="-15m, 14:32 or ISO 8601"),
                ],
                submit="Declare",
                validate=validate,
            ),
            declared,
        )

    def _declared(self, incident: Incident) -> None:
        self.query_one(IncidentList).select_id(incident.id)
        self.show_current()
        self.notify(f"Declared {incident.id}. n writes a note, t triages.", timeout=3)

    def _prompt_ids(self) -> list[str]:
        try:
            ids = {p.prompt_id for p in self.read(self.service.prompts.list_prompts)}
        except Exception:  # the registry is optional: complete from incidents alone
            ids = set()
        ids |= {i.prompt_id for i in self.incidents}
        return sorted(ids)

    def action_people(self) -> None:
        incident = self._need_incident()
        if incident is None:
            return
        self.push_screen(
            FormScreen(f"People · {incident.id}", [
                Field("commander", "Commander", value=incident.commander),
                Field("scribe", "Scribe", value=incident.scribe),
                Field("responders", "Responders (comma-separated)", value=", ".join(incident.responders)),
            ], submit="Save"),
            lambda v: v and self.write(
                self.service.set_people, incident.id, commander=v["commander"], scribe=v["scribe"],
                responders=[r.strip() for r in v["responders"].split(",") if r.strip()]),
        )

    def action_edit(self) -> None:
        incident = self._need_incident()
        if incident is None:
            return
        self.push_screen(
            FormScreen(f"Edit · {incident.id}", [
                Field("title", "Title", value=incident.title),
                Field("severity", "Severity", kind="select", value=incident.severity.value,
                      options=[(s.value, s.value) for s in Severity]),
            ], submit="Save", validate=lambda v: None if v["title"].strip() else "a title cannot be empty"),
            lambda v: v and self.write(self.service.edit, incident.id, title=v["title"], severity=v["severity"]),
        )

    def action_sample(self) -> None:
        incident = self._need_incident()
        if incident is None:
            return
        self.push_screen(
            FormScreen(f"Failure sample · {incident.id}", [
                Field("input", "Input (what the user asked)", kind="textarea"),
                Field("output", "Bad output", kind="textarea"),
                Field("note", "Why it is wrong", placeholder="e.g. invents a 90-day refund policy"),
            ], submit="Add sample", validate=lambda v: None if v["output"].strip() else "paste the bad output"),
            lambda v: v and self.write(self.service.add_sample, incident.id, input=v["input"], output=v["output"],
                                       note=v["note"], done=lambda s: self.notify("Sample added (S compares them)")),
        )

    def action_samples(self) -> None:
        incident = self._need_incident()
        if incident is None:
            return
        samples = self.read(self.service.samples, incident.id)
        prompt_text = ""
        if incident.prompt_version is not None:
            try:
                prompt_text = self.read(self.service.prompts.get, incident.prompt_id, incident.prompt_version).text
            except Exception:  # prompt text unknown: phrases are still compared across samples
                prompt_text = ""
        self.push_screen(SamplesScreen(incident.id, samples, common_phrases(samples, prompt_text)))
