"""Pane 4: the guided postmortem form.

Every template field in order, section by section, guidance beside each section, lint inline,
progress on top. Typing changes a local copy at once (so lint and progress follow every key)
and is queued for the store at once, through one ordered writer off the UI loop that folds a
burst of keys into one write. Fields computed from the incident ("auto") take no typing until
enter opens one for an override ("edited ✎"); ctrl+r puts it back to auto. Copying, saving and
the final checklist live in ``postmortem/output.py``, list editing in ``postmortem/list_ops.py``.

Mount it with ``PostmortemPane(postmortem_service)`` and call ``show_incident(incident_id)``.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Select, Static, TextArea

from incident_tui.domain.export import FORMATS
from incident_tui.domain.postmortem import (
    ACTIONS,
    FACTORS,
    PREFILLED,
    SECTION_KEYS,
    SECTIONS,
    TEXT_FIELDS,
    DocStatus,
    Finding,
    Postmortem,
    filled,
    lint,
    section,
)
from incident_tui.tui.widgets.postmortem.dialogs import ExportChoice, ExportDialog
from incident_tui.services.postmortem import PostmortemService
from incident_tui.tui.widgets.postmortem.display import (
    NARROW,
    actions_lint,
    head_line,
    lint_by_field,
    nav_text,
    origin,
    section_title,
)
from incident_tui.tui.widgets.postmortem.fields import FieldRow, Refused, update_if_changed
from incident_tui.tui.widgets.postmortem.list_ops import ListEditor
from incident_tui.tui.widgets.postmortem.lists import (
    ActionList,
    EditableList,
    FactorList,
)
from incident_tui.tui.widgets.postmortem.output import ClipboardCopied, PostmortemOutput, final_checklist
from incident_tui.tui.context import PaneContext
from incident_tui.tui.writer import OrderedWriter, WriteDone, WriteFailed

WITH_NAV = 130  # from here: the section list on the left


class PostmortemPane(Vertical):
    """The postmortem form of one incident."""

    BINDINGS = [
        # Priority: a move happens as its key is read (the app hands each key to whatever has focus
        # at that moment), so text typed straight after it lands in the field the move reaches,
        # in order, as if typed slowly.
        Binding("ctrl+down", "section(1)", "next section", id="postmortem.next_section", priority=True),
        Binding("ctrl+up", "section(-1)", "prev section", id="postmortem.prev_section", priority=True),
        Binding("tab", "next_field(1)", "next field", show=False, id="postmortem.next_field", priority=True),
        Binding("shift+tab", "next_field(-1)", "previous field", show=False, id="postmortem.prev_field",
                priority=True),
        # Only on an auto field (check_action): it opens the field for typing, so keys after it type.
        Binding("enter", "override", "override auto", id="postmortem.override", priority=True),
        Binding("enter", "edit", "edit fields", id="postmortem.edit", priority=True),
        Binding("ctrl+r", "reset_field", "back to auto", id="postmortem.reset_field", priority=True),
        Binding("f2", "copy(True)", "copy all", id="postmortem.copy_all"),
        Binding("f3", "copy(False)", "copy section", id="postmortem.copy_section"),
        Binding("f4", "cycle_format", "format", id="postmortem.format"),
        Binding("ctrl+o", "export", "copy/save…", id="postmortem.export"),
        Binding("ctrl+f", "final", "final checklist", id="postmortem.final"),
        Binding("escape", "leave_field", "leave field", show=False, id="postmortem.leave_field", priority=True),
    ]

    DEFAULT_CSS = """
    PostmortemPane { height: 1fr; }
    PostmortemPane #pm-head { height: auto; padding: 0 1; background: $boost; }
    PostmortemPane #pm-body { height: 1fr; }
    PostmortemPane #pm-nav { width: 28; height: 1fr; padding: 0 1; border-right: vkey $panel-lighten-2; }
    PostmortemPane.-nonav #pm-nav { display: none; }
    PostmortemPane #pm-form { height: 1fr; padding: 0 1; }
    PostmortemPane #pm-empty { padding: 1 2; color: $text-muted; }
    PostmortemPane .pm-section { height: auto; margin-bottom: 1; }
    PostmortemPane .pm-section-title { text-style: bold; background: $panel; padding: 0 1; }
    PostmortemPane .pm-section-title.-current { background: $accent 40%; }
    PostmortemPane .pm-section-body { height: auto; layout: horizontal; }
    PostmortemPane .pm-guidance { width: 30; height: auto; color: $text-muted; text-style: italic; padding: 0 1 0 0; }
    PostmortemPane .pm-fields { width: 1fr; height: auto; }
    PostmortemPane.-narrow .pm-section-body { layout: vertical; }
    PostmortemPane.-narrow .pm-guidance { width: 1fr; }
    PostmortemPane .pm-list-hint { color: $text-muted; height: auto; }
    PostmortemPane #pm-actions-lint { color: $error; height: auto; }
    """

    def __init__(
        self,
        service: PostmortemService,
        *,
        context: PaneContext | None = None,
        directory: Path | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.service = service
        self.directory = directory or Path.cwd()
        self.incident_id: str | None = None
        self.current_section = SECTION_KEYS[0]
        self.fmt = FORMATS[0]
        self.pm: Postmortem | None = None
        self.findings: list[Finding] = []
        # The dashboard's one writer when hosted there; a pane mounted on its own keeps its own,
        # with its own lock.
        self._own_lock = threading.RLock()
        self.writer = context.writer if context is not None else OrderedWriter(self, lambda: self._own_lock)
        self.writer.on_idle(self._store_idle)
        self.lists = ListEditor(service, store=self._store_lists, ask=self._ask,
                                say=lambda text: self.notify(text, timeout=3, markup=False))
        self.output = PostmortemOutput(service, host=self, failed=self._store_failed,
                                       submit=lambda call, done, failed: self.writer.submit(call, done, failed))
        self._dirty: set[str] = set()  # changed on screen, no save queued (a save failed)
        self._in_flight: dict[str, int] = {}  # saves queued or running, per field
        self._overriding: set[str] = set()  # auto fields opened for typing, nothing typed yet
        self._refused_in: Widget | None = None  # the locked field we last explained
        self._save_state = ""
        self._closing = False  # unmounting: store work only, the widgets are going
        self._rows: dict[str, FieldRow] | None = None
        self._sections: dict[str, Widget] = {}
        self._marked: tuple[FieldRow | None, str] = (None, "")

    @on(WriteDone)
    @on(WriteFailed)
    def _write_finished(self, message: WriteDone | WriteFailed) -> None:
        message.stop()  # this pane's own writer (mounted without the dashboard)
        message.writer.finish(message)

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text("Postmortem: no incident selected"), id="pm-head")
        with Horizontal(id="pm-body"):
            yield Static("", id="pm-nav")
            # Not focusable itself: tab goes field to field, and focus scrolls the form.
            with VerticalScroll(id="pm-form", can_focus=False):
                yield Static(Text("Select an incident (1) to write its postmortem."), id="pm-empty")
                for n, spec in enumerate(SECTIONS, 1):
                    with Vertical(classes="pm-section", id=f"pm-sec-{spec.key}"):
                        yield Static(Text(f"{n}/{len(SECTIONS)} {spec.title}"), classes="pm-section-title")
                        with Vertical(classes="pm-section-body"):
                            yield Static(Text(spec.guidance), classes="pm-guidance")
                            with Vertical(classes="pm-fields"):
                                yield from self._compose_fields(spec)

    def _compose_fields(self, spec) -> ComposeResult:
        for field in spec.fields:
            if field.kind == FACTORS:
                yield FactorList(id="pm-factors")
                yield Static(Text("ctrl+n add · enter edit · del delete · shift+↑↓ move · ctrl+z undo"),
                             classes="pm-list-hint")
            elif field.kind == ACTIONS:
                yield ActionList(id="pm-actions")
                yield Static("", id="pm-actions-lint")
                yield Static(Text("ctrl+n add · enter edit · del delete · shift+↑↓ move · w waive a kind"),
                             classes="pm-list-hint")
            else:
                yield FieldRow(field)

    def on_mount(self) -> None:
        self.query(".pm-section").set(display=False)
        # Looked up once: focus moves and keys must not walk the whole form.
        self._sections = {key: self.query_one(f"#pm-sec-{key}") for key in SECTION_KEYS}
        self._rows = {row.key: row for row in self.query(FieldRow).results()}

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")
        self.set_class(event.size.width < WITH_NAV, "-nonav")

    def on_unmount(self) -> None:
        # Leaving the app or the pane: what was typed must reach the store before we go.
        self._closing = True
        self._flush_dirty()
        self.writer.drain_now()

    # --- the public API -------------------------------------------------------------------

    def show_incident(self, incident_id: str) -> None:
        """Show (or refresh) the postmortem of ``incident_id``; typing in progress is saved first."""
        incident_id = incident_id.strip().upper()
        if incident_id != self.incident_id:
            self._flush_dirty()
            self.incident_id = incident_id
            self.pm = None
            self._in_flight.clear()  # saves of the other incident still land, in order, but are not ours
            self._overriding.clear()
            # The old incident's text must not be typed over while the new one loads.
            self.query(".pm-section").set(display=False)
            empty = self.query_one("#pm-empty", Static)
            empty.update(Text(f"Loading the postmortem of {incident_id}…"))
            empty.display = True
        self.reload()

    def reload(self) -> None:
        """Re-read the store: prefilled fields follow the incident, typing in progress is kept."""
        if self.incident_id is None:
            return
        incident_id = self.incident_id
        self.writer.submit(lambda: self.service.load(incident_id), done=partial(self._loaded, incident_id),
                           failed=self._store_failed)

    def focus_target(self) -> Widget:
        """What the dashboard focuses when it switches to this pane."""
        return self._first_editor(self.current_section) or self

    # --- loading ----------------------------------------------------------------------------

    def _loaded(self, incident_id: str, pm: Postmortem) -> None:
        if incident_id != self.incident_id or not self.is_attached:
            return
        first = self.pm is None
        if not first:
            # Typed but not yet stored (the load may have run before the save): the screen's text wins.
            for key in self._dirty | set(self._in_flight):
                pm.fields[key] = self.pm.get(key)
                pm.edited.add(key)
        self.pm = pm
        focused = self.app.focused
        with self.app.batch_update():
            self.query_one("#pm-empty").display = False
            self.query(".pm-section").set(display=True)
            for row in self.query(FieldRow).results():
                if row.key == "status":
                    row.set_value(pm.status.value)
                elif first or (focused is not row.editor and row.key not in self._dirty
                               and row.key not in self._in_flight):
                    row.set_value(pm.get(row.key))
            self._show_lists()
            self._refresh()
        if first and focused is None:
            self.call_after_refresh(self._scroll_to_top)

    def _scroll_to_top(self) -> None:
        self.query_one("#pm-form", VerticalScroll).scroll_home(animate=False)

    def _show_lists(self, keep_factor: int | None = None, keep_action: int | None = None) -> None:
        self.query_one(FactorList).show_factors(self.pm.contributing_factors, keep_factor)
        self.query_one(ActionList).show_actions(self.pm.action_items, keep_action)

    # --- typing -------------------------------------------------------------------------------

    @staticmethod
    def _key_of(widget: Widget | None) -> str | None:
        wid = getattr(widget, "id", None) or ""
        key = wid.removeprefix("pm-")
        return key if wid.startswith("pm-") and key in TEXT_FIELDS else None

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _typed(self, event: Input.Changed | TextArea.Changed) -> None:
        key = self._key_of(event.control)
        if key is None or self.pm is None:
            return
        event.stop()
        value = event.control.text if isinstance(event.control, TextArea) else event.control.value
        if value == self.pm.get(key):
            return  # the form setting a loaded value, or typed back to what is stored
        if key not in self.pm.edited:
            self.call_after_refresh(self.refresh_bindings)  # "back to auto" applies now
        self.pm.fields[key] = value
        self.pm.edited.add(key)
        self._overriding.discard(key)
        self._dirty.add(key)
        # Saved at once, off the UI loop: a kill -9 loses at most the keys of the save under way.
        # While one save runs, later keys in this field are folded into the one queued after it.
        self._save(key)
        self._refresh(only=key)

    @on(events.DescendantBlur)
    def _left(self, event: events.DescendantBlur) -> None:
        key = self._key_of(event.widget)
        if key in self._dirty:
            self._save(key)  # a save that failed: leaving the field retries it
        if key in self._overriding:  # opened for typing, nothing typed: it follows the incident again
            self._overriding.discard(key)
            self._refresh(only=key)
        self.call_after_refresh(self._mark_current)  # focus may have left the pane altogether

    def _save(self, key: str) -> None:
        if key not in self._dirty or self.pm is None or self.incident_id is None:
            return
        self._dirty.discard(key)
        incident_id, value = self.incident_id, self.pm.get(key)
        self._set_save_state("saving…")
        queued = self.writer.submit(lambda: self.service.save_field(incident_id, key, value),
                                    done=partial(self._saved, incident_id, key),
                                    failed=partial(self._save_failed, incident_id, key),
                                    coalesce=("field", incident_id, key))
        if queued:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def _flush_dirty(self) -> None:
        for key in list(self._dirty):
            self._save(key)

    def _landed(self, incident_id: str, key: str) -> None:
        if incident_id == self.incident_id and key in self._in_flight:
            self._in_flight[key] -= 1
            if self._in_flight[key] <= 0:
                del self._in_flight[key]

    def _saved(self, incident_id: str, key: str, pm: Postmortem) -> None:
        self._landed(incident_id, key)
        if not self.is_attached or incident_id != self.incident_id or self.pm is None:
            return
        idle = key not in self._dirty and key not in self._in_flight
        changed = self._status_followed(pm)
        if idle and key in PREFILLED:
            # Typing the computed value back is not an edit: the field follows the incident again.
            edited = (self.pm.edited - {key}) | (pm.edited & {key})
            changed = changed or edited != self.pm.edited
            self.pm.edited = edited
        if changed:  # (saved on every key: a full refresh here would cost a frame per key)
            self._refresh()

    def _status_followed(self, pm: Postmortem) -> bool:
        """The store reopens a final document that is edited: say so, and show it. True if it did."""
        if self.pm is None or pm.status is self.pm.status:
            return False
        reopened = self.pm.status is DocStatus.FINAL and pm.status is DocStatus.DRAFT
        self.pm.status = pm.status
        self.query_one("#pm-row-status", FieldRow).set_value(pm.status.value)
        if reopened:
            self.notify("Edited after it was marked final: the postmortem is a draft again (stamped on the "
                        "timeline). ctrl+f marks it final once more.", severity="warning", timeout=8, markup=False)
        return True

    def _store_idle(self) -> None:
        if self._save_state == "saving…" and self.is_attached:
            self._set_save_state("saved")

    def _save_failed(self, incident_id: str, key: str, error: Exception) -> None:
        self._landed(incident_id, key)
        if not self.is_attached:
            return
        if incident_id == self.incident_id:
            self._dirty.add(key)  # kept on screen; the next change or leaving the field retries
        self._set_save_state("NOT SAVED")
        self.notify(f"Not saved: {error}", severity="error", timeout=10, markup=False)

    def _store_failed(self, error: Exception) -> None:
        if self.is_attached:
            self.notify(str(error), severity="error", timeout=10, markup=False)

    def _set_save_state(self, text: str) -> None:
        self._save_state = text
        if not self._closing:
            self._refresh_head()

    @on(Select.Changed, "#pm-status")
    def _status_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if self.pm is None or event.value == self.pm.status.value:
            return
        event.select.value = self.pm.status.value  # shown once the store agrees
        self.request_status(str(event.value))

    # --- sections and fields ------------------------------------------------------------------

    def _section_of(self, widget: Widget | None) -> str | None:
        node = widget
        while node is not None and node is not self:
            if node.has_class("pm-section"):
                return (node.id or "").removeprefix("pm-sec-")
            node = node.parent
        return None

    @on(events.DescendantFocus)
    def _focused(self, event: events.DescendantFocus) -> None:
        # Each widget delivers its own focus event, so after a quick ctrl+↓ ↓ ↓ they can arrive
        # out of order: what counts is what has focus now, not what the event names.
        if self.screen.focused is not self._refused_in:
            self._refused_in = None
        key = self._section_of(self.screen.focused)
        if key and key != self.current_section:
            self.current_section = key
            self._refresh_head()
            self._refresh_nav()
        self._mark_current()

    def _row_of(self, widget: Widget | None) -> FieldRow | None:
        key = self._key_of(widget)
        return (self._rows or {}).get(key) if key else None

    def _first_editor(self, key: str) -> Widget | None:
        """The first field of section ``key`` that takes typing (auto fields are skipped), else its first."""
        found = list(self._sections[key].query("Input, TextArea, Select, EditableList").results())
        row = self._row_of
        return next((w for w in found if not (row(w) and row(w).locked)), found[0] if found else None)

    def action_section(self, delta: int) -> None:
        if self.pm is None:
            return
        index = max(0, min(SECTION_KEYS.index(self.current_section) + delta, len(SECTION_KEYS) - 1))
        key = SECTION_KEYS[index]
        self.current_section = key
        target = self._first_editor(key)
        if target is not None:
            self.screen.set_focus(target, scroll_visible=False)
        self.query_one("#pm-form", VerticalScroll).scroll_to_widget(self._sections[key], top=True, animate=False)
        self._refresh_head()
        self._refresh_nav()

    def _inside(self) -> bool:
        focused = self.screen.focused
        return focused is not None and (focused is self or self in focused.ancestors)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides the key and lets it through: enter types a newline in an overridden field.
        if action == "next_field":
            return self._inside()
        if action == "override":
            row = self._row_of(self.screen.focused)
            return row is not None and row.locked
        if action == "reset_field":
            key = self._key_of(self.screen.focused)
            return self.pm is not None and key in PREFILLED and key in self.pm.edited
        if action == "edit":
            return self.can_focus and self.screen.focused is self
        if action == "leave_field":
            focused = self.screen.focused
            # An open Select list closes with escape first; the pane itself has no field to leave.
            return self._inside() and focused is not self and not isinstance(focused.parent, Select)
        return True

    def action_next_field(self, delta: int) -> None:
        if delta > 0:
            self.screen.focus_next()
        else:
            self.screen.focus_previous()

    def action_edit(self) -> None:
        self.screen.set_focus(PostmortemPane.focus_target(self))

    def action_override(self) -> None:
        """Open an auto field for typing; what is typed then replaces the computed value (edited ✎)."""
        row = self._row_of(self.screen.focused)
        if row is None or not row.locked:
            return
        self._overriding.add(row.key)
        self._refresh(only=row.key)
        self.refresh_bindings()

    @on(Refused)
    def _refused(self, event: Refused) -> None:
        event.stop()
        if self._refused_in is event.editor:
            return  # said once per visit: a burst of keys is one mistake, not nine
        self._refused_in = event.editor
        row = self._row_of(event.editor)
        label = row.spec.label if row else "This field"
        self.notify(f"{label} follows the incident (auto): enter overrides it, then type", timeout=5,
                    markup=False)

    def action_leave_field(self) -> None:
        """Escape: leave the field (it saves), so single-letter keys reach the dashboard again."""
        if self.screen.focused is not None and self in self.screen.focused.ancestors:
            # A focusable pane keeps focus itself, so its own keys (copy, sections) stay live.
            self.screen.set_focus(self if self.can_focus else None)

    def action_reset_field(self) -> None:
        key = self._key_of(self.app.focused)
        if self.pm is None or key is None:
            return
        if key not in PREFILLED:
            self.notify("Only fields computed from the incident can be reset", timeout=4, markup=False)
            return
        self._dirty.discard(key)
        incident_id = self.incident_id
        self.writer.submit(lambda: self.service.reset_field(incident_id, key),
                           done=partial(self._reset_done, key), failed=self._store_failed)

    def _reset_done(self, key: str, pm: Postmortem) -> None:
        if self.pm is None or not self.is_attached:
            return
        self.pm.fields[key] = pm.get(key)
        self.pm.edited.discard(key)
        self._overriding.discard(key)
        self.query_one(f"#pm-row-{key}", FieldRow).set_value(pm.get(key))
        self._status_followed(pm)
        self._refresh()
        self.refresh_bindings()

    # --- what the pane shows about itself (texts from postmortem/display.py) -----------------

    def _mark_current(self) -> None:
        """Highlight the row and section with focus (CSS :focus-within leaves siblings' labels stale).

        Only the label and title that change are touched: a class change restyles the node and
        its children, and a focus move must cost one frame, not a restyle of a whole section.
        """
        focused = self.screen.focused if self.is_attached else None
        inside = focused is not None and self in focused.ancestors
        row = next((n for n in (focused.ancestors if inside else []) if isinstance(n, FieldRow)), None)
        section_key = self.current_section if inside else ""
        old_row, old_section = self._marked
        if row is not old_row:
            if old_row is not None:
                old_row.mark_current(False)
            if row is not None:
                row.mark_current(True)
        if section_key != old_section:
            if old_section in self._sections:
                self._section_title(old_section).set_class(False, "-current")
            if section_key in self._sections:
                self._section_title(section_key).set_class(True, "-current")
        self._marked = (row, section_key)

    def _section_title(self, key: str) -> Static:
        return self._sections[key].query_one(".pm-section-title", Static)

    def _refresh(self, only: str | None = None) -> None:
        """Lint, origin labels, progress and the section list, from the local copy.

        ``only``: the field being typed in; its row is the only one whose lint can have changed.
        """
        if self.pm is None or self._closing or self._rows is None:
            return
        self.findings = lint(self.pm)
        by_field = lint_by_field(self.findings)
        rows = [self._rows[only]] if only in self._rows else self._rows.values()
        for row in rows:
            # Empty fields are what the guidance and the checklist are for; lint speaks once there is text.
            row.show_lint(by_field.get(row.key, []) if filled(self.pm, row.key) else [])
            self._show_origin(row)
        update_if_changed(self.query_one("#pm-actions-lint", Static), actions_lint(self.pm, by_field))
        for n, spec in enumerate(SECTIONS, 1):
            update_if_changed(self.query_one(f"#pm-sec-{spec.key} .pm-section-title", Static),
                              section_title(n, spec, self.pm, self.findings))
        self._refresh_head()
        self._refresh_nav()

    def _show_origin(self, row: FieldRow) -> None:
        """Label the row auto / edited ✎ / open for typing, and lock it accordingly."""
        if self.pm is None:
            return
        shown = origin(self.pm, row.key, self._overriding)
        if shown is None:
            row.show_origin(False, False)
            return
        row.set_locked(shown.locked)
        row.show_origin(shown.auto, shown.edited, shown.opened)

    def _refresh_head(self) -> None:
        if self.pm is not None:
            text = head_line(self.pm, self.findings, self.current_section, self.fmt, self._save_state,
                             wide=self.size.width >= NARROW)
            update_if_changed(self.query_one("#pm-head", Static), text)

    def _refresh_nav(self) -> None:
        if self.pm is not None:
            update_if_changed(self.query_one("#pm-nav", Static), nav_text(self.pm, self.findings, self.current_section))

    # --- lists ------------------------------------------------------------------------------------

    @on(EditableList.Request)
    def _list_request(self, event: EditableList.Request) -> None:
        event.stop()
        if self.pm is None or self.incident_id is None:
            return
        if isinstance(event.list, FactorList):
            self.lists.factor_request(self.incident_id, self.pm, event.what, event.index, event.delta)
        else:
            self.lists.item_request(self.incident_id, self.pm, event.what, event.index, event.delta)

    def _ask(self, dialog, callback) -> None:
        self.app.push_screen(dialog, callback)

    def _store_lists(self, call, keep_factor: int | None, keep_action: int | None, message: str) -> None:
        self.writer.submit(call, done=partial(self._lists_stored, keep_factor, keep_action, message),
                           failed=self._store_failed)

    def _lists_stored(self, keep_factor: int | None, keep_action: int | None, message: str, pm: Postmortem) -> None:
        if self.pm is None or not self.is_attached or pm.incident_id != self.incident_id:
            return
        self.pm.contributing_factors = pm.contributing_factors
        self.pm.action_items = pm.action_items
        self.pm.waivers = pm.waivers
        self._status_followed(pm)
        self._show_lists(keep_factor, keep_action)
        self._refresh()
        if message:
            self.notify(message, timeout=4, markup=False)

    def focus_list(self, which: str) -> None:
        (self.query_one(FactorList) if which == "factors" else self.query_one(ActionList)).focus()

    # --- getting it out (postmortem/output.py) ------------------------------------------------------

    def _what(self, whole: bool) -> str:
        return "the postmortem" if whole else f"section {section(self.current_section).title}"

    def action_cycle_format(self) -> None:
        self.fmt = FORMATS[(FORMATS.index(self.fmt) + 1) % len(FORMATS)]
        self._refresh_head()
        self.notify(f"Copies are now {self.fmt}", timeout=3, markup=False)

    def action_copy(self, whole: bool = True, fmt: str | None = None) -> None:
        if self.pm is None or self.incident_id is None:
            self.notify("Select an incident first", severity="warning", timeout=4, markup=False)
            return
        self._flush_dirty()  # the copy holds what is on screen
        self.output.copy(self.incident_id, None if whole else self.current_section, fmt or self.fmt,
                         self._what(whole))

    @on(ClipboardCopied)
    def _copied(self, message: ClipboardCopied) -> None:
        message.stop()
        self.output.copied(message)

    def action_export(self) -> None:
        if self.pm is None:
            self.notify("Select an incident first", severity="warning", timeout=4, markup=False)
            return
        dialog = ExportDialog(self.fmt, section(self.current_section).title, f"{self.incident_id}-postmortem",
                              self.directory)
        self.app.push_screen(dialog, self._export_chosen)

    def _export_chosen(self, choice: ExportChoice | None) -> None:
        if choice is None or self.incident_id is None:
            return
        self.fmt = choice.fmt
        self._refresh_head()
        if choice.action == "copy":
            self.action_copy(choice.whole, choice.fmt)
            return
        self._flush_dirty()
        self.output.save(self.incident_id, choice, None if choice.whole else self.current_section,
                         self._what(choice.whole))

    def action_final(self) -> None:
        self.request_status(DocStatus.FINAL.value)

    def request_status(self, value: str) -> None:
        """Draft and in review are immediate; final goes through the checklist."""
        if self.pm is None or self.incident_id is None:
            return
        self._flush_dirty()
        incident_id = self.incident_id
        if value == DocStatus.FINAL.value:
            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.output.set_status(incident_id, value, self._status_stored)

            self.app.push_screen(final_checklist(self.pm, self.findings), confirmed)
        else:
            self.output.set_status(incident_id, value, self._status_stored)

    def _status_stored(self, pm: Postmortem) -> None:
        if self.pm is None or not self.is_attached or pm.incident_id != self.incident_id:
            return
        self.pm.status = pm.status
        self.query_one("#pm-row-status", FieldRow).set_value(pm.status.value)
        self._refresh()
        self.notify(f"Postmortem is {pm.status.label}", timeout=4, markup=False)
