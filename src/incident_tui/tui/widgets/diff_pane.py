"""Pane 3: what changed between two prompt versions, by default failing vs last good.

DiffPane wires a header line, the DiffView body and a version picker to PromptService.
Reading versions and diffing run in a thread worker, so a megabyte prompt never blocks
the screen; a newer request makes an older one's result stale and it is dropped.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from incident_tui.domain.diff import DiffResult, diff_texts, unified_diff, visible
from incident_tui.domain.prompts import PromptVersion, UnknownVersion
from incident_tui.tui.context import PaneContext
from incident_tui.tui.failures import EXPECTED, describe, is_bug
from incident_tui.tui.screens.dialog import Dialog
from incident_tui.tui.widgets.diff_view import DiffView, measure_rows
from incident_tui.tui.widgets.suspects import SuspectList


@dataclass
class _Loaded:
    token: int
    prompt_id: str
    old: int
    new: int
    roles: tuple[str, str] | None
    old_text: str
    new_text: str
    result: DiffResult
    widths: list[tuple[int, int, bool]]


class DiffPane(Vertical):
    """Side-by-side diff of two prompt versions (unified when the terminal is narrow)."""

    BINDINGS = [
        Binding("n", "next_change", "next change", id="diff.next"),
        Binding("N", "previous_change", "prev change", id="diff.previous"),
        Binding("o", "toggle_fold", "fold", id="diff.fold"),
        Binding("w", "toggle_wrap", "wrap", id="diff.wrap"),
        Binding("full_stop", "toggle_whitespace", "show spaces", id="diff.whitespace", key_display="."),
        Binding("W", "toggle_ignore_whitespace", "ignore spaces", id="diff.ignore_whitespace"),
        Binding("u", "toggle_layout", "layout", id="diff.layout"),
        Binding("y", "copy", "copy diff", id="diff.copy"),
        Binding("v", "pick_versions", "versions", id="diff.pick"),
        Binding("g", "last_good", "vs last good", id="diff.last_good"),
        Binding("C", "record_change", "record change", id="diff.record_change", show=False),
    ]

    DEFAULT_CSS = """
    DiffPane { height: 1fr; }
    DiffPane > #diff-header { height: auto; max-height: 4; padding: 0 1; background: $boost; }
    DiffPane > DiffView { height: 1fr; }
    DiffPane > #suspects-title { height: 1; padding: 0 1; }
    """

    @dataclass
    class Shown(Message):
        """A diff is on screen (for a dashboard that titles the pane)."""

        pane: DiffPane
        prompt_id: str
        old_version: int
        new_version: int

    # What the pane's thread workers post back (the workers run on the app, so a bug in one
    # reaches the app's Worker.StateChanged handler; these carry the results).
    @dataclass
    class SuspectsLoaded(Message):
        incident_id: str
        found: list

    @dataclass
    class Loaded(Message):
        loaded: _Loaded

    @dataclass
    class LoadFailed(Message):
        token: int
        message: str
        bug: bool  # the app's worker handler says it already

    def __init__(self, prompt_service: Any, *, changes: Any | None = None, context: PaneContext | None = None,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.prompt_service = prompt_service
        self.context = context  # the dashboard's lock, writer and clock; None on a bare host
        # A ChangeService: with it, "what changed" (the incident's suspects) sits above the diff.
        self.changes = changes
        self.incident_id: str | None = None
        self.prompt_id: str | None = None
        self.old_version: int | None = None
        self.new_version: int | None = None
        self.roles: tuple[str, str] | None = None
        self.ignore_whitespace = False
        self.status = ""
        self._texts: tuple[str, str] | None = None
        self._token = 0
        # What `g` goes back to: the incident's failing version, whatever `v` showed since.
        self.incident_target: tuple[str, int] | None = None
        # Wrapping starts on for prose until the user sets it with `w`.
        self.wrap_chosen = False

    def compose(self) -> ComposeResult:
        if self.changes is not None:
            title = Text("What changed before impact", style="bold", no_wrap=True, overflow="ellipsis")
            title.append("  tab: here · enter: diff/link · l: link suspect · C: record", style="dim")
            yield Static(title, id="suspects-title")
            yield SuspectList(id="suspects")
        yield Static(id="diff-header")
        yield DiffView(id="diff-view")

    @property
    def view(self) -> DiffView:
        return self.query_one(DiffView)

    def on_mount(self) -> None:
        self._update_header()

    def focus(self, scroll_visible: bool = True) -> DiffPane:
        self.view.focus(scroll_visible)
        return self

    # --- public API --------------------------------------------------------------------

    def show_versions(self, prompt_id: str, old_version: int, new_version: int) -> Worker:
        """Diff two versions of a prompt (runs in a worker; returns it)."""
        return self._request(prompt_id, old_version, new_version, None)

    def show_incident(self, prompt_id: str, failing_version: int, incident_id: str | None = None) -> Worker:
        """Diff the failing version against the last good one before it (and list what changed)."""
        self.incident_target = (prompt_id, failing_version)
        if incident_id is not None:
            self.incident_id = incident_id
            self.load_suspects()
        return self._request(prompt_id, None, failing_version, ("last good", "failing"))

    # --- what changed ------------------------------------------------------------------

    def load_suspects(self) -> None:
        if self.changes is not None and self.incident_id is not None:
            self._load_suspects(self.incident_id)

    def _load_suspects(self, incident_id: str) -> None:
        self.app.run_worker(partial(self._suspects_worker, incident_id), thread=True, group="diff-suspects",
                            exclusive=True, exit_on_error=False)

    def _suspects_worker(self, incident_id: str) -> None:
        try:
            with self._db_lock():
                found = self.changes.suspects(incident_id)
        except EXPECTED as exc:  # shown as one line, never a traceback
            self.post_message(self.LoadFailed(-1, f"what changed: {visible(describe(exc))}", False))
            return
        self.post_message(self.SuspectsLoaded(incident_id, found))

    @on(SuspectsLoaded)
    def _suspects_loaded(self, message: SuspectsLoaded) -> None:
        message.stop()
        if message.incident_id == self.incident_id:
            self.query_one(SuspectList).show(message.found)

    @on(SuspectList.OpenPrompt)
    def _open_prompt_change(self, event: SuspectList.OpenPrompt) -> None:
        self.show_versions(event.prompt_id, event.old_version, event.new_version)
        self.view.focus()

    @on(SuspectList.Link)
    def _link_change(self, event: SuspectList.Link) -> None:
        if self.context is None or self.incident_id is None:
            return
        self.context.write(self.changes.link, self.incident_id, event.change_id,
              done=lambda s: self.notify(f"{s.change.id} linked as a suspect on the timeline", timeout=3,
                                         markup=False))

    def action_record_change(self) -> None:
        """Record a change by hand (what a deploy pipeline would send with `change add`)."""
        if self.changes is None:
            return
        from incident_tui.domain.changes import ChangeKind
        from incident_tui.tui.screens.form import Field, FormScreen

        prompt_id = self.prompt_id or (self.incident_target[0] if self.incident_target else "")

        def recorded(values: dict[str, str] | None) -> None:
            if not values or self.context is None:
                return
            from incident_tui.domain.times import parse_when

            try:
                at = parse_when(values["at"], self.context.clock()) if values["at"].strip() else None
            except ValueError as exc:
                self.notify(visible(str(exc)), severity="error", markup=False)
                return
            self.context.write(self.changes.add, kind=values["kind"], summary=values["summary"],
                  prompt_id=values["prompt"].strip() or None, at=at, link=values["link"].strip(),
                  done=lambda c: (self.notify(f"recorded {c.id}", timeout=3, markup=False), self.load_suspects()))

        self.app.push_screen(FormScreen("Record a change", [
            Field("kind", "Kind", kind="select", value="deploy", options=[(k.value, k.value) for k in ChangeKind]),
            Field("summary", "What changed", placeholder="e.g. model snapshot moved, temperature 0.2 → 0.7"),
            Field("prompt", "Prompt", value=prompt_id, hint="blank: it applies to every prompt"),
            Field("at", "When", placeholder="-2h, 14:32 or ISO 8601 (blank: now)"),
            Field("link", "Link", placeholder="optional https://…"),
        ], submit="Record", validate=lambda v: None if v["summary"].strip() else "say what changed"), recorded)

    # --- loading -----------------------------------------------------------------------

    def _request(self, prompt_id: str, old: int | None, new: int, roles: tuple[str, str] | None) -> Worker:
        self._token += 1
        self.status = "diffing…"
        self._update_header()
        return self._load(self._token, prompt_id, old, new, roles, self.ignore_whitespace)

    def _db_lock(self) -> contextlib.AbstractContextManager[Any]:
        # The dashboard serialises db access with its db_lock; a bare host has none.
        return self.context.db_lock if self.context is not None else contextlib.nullcontext()

    def _load(self, token: int, prompt_id: str, old: int | None, new: int, roles: tuple[str, str] | None,
              ignore_ws: bool) -> Worker:
        return self.app.run_worker(partial(self._load_worker, token, prompt_id, old, new, roles, ignore_ws),
                                   thread=True, group="diff-pane", exit_on_error=False)

    def _load_worker(self, token: int, prompt_id: str, old: int | None, new: int, roles: tuple[str, str] | None,
                     ignore_ws: bool) -> None:
        try:
            with self._db_lock():
                if old is None:
                    old = self.prompt_service.last_known_good(prompt_id, new)
                    if old is None:
                        raise UnknownVersion(f"{prompt_id} has no good version before v{new} to compare with")
                old_text = self.prompt_service.get(prompt_id, old).text
                new_text = self.prompt_service.get(prompt_id, new).text
            result = diff_texts(old_text, new_text, ignore_whitespace=ignore_ws)
            loaded = _Loaded(token, prompt_id, old, new, roles, old_text, new_text, result, measure_rows(result))
        except Exception as exc:  # one line in the pane, never a traceback; a bug is also raised (see LoadFailed)
            self.post_message(self.LoadFailed(token, describe(exc), is_bug(exc)))
            if is_bug(exc):
                raise
            return
        self.post_message(self.Loaded(loaded))

    @on(Loaded)
    def _loaded_message(self, message: Loaded) -> None:
        message.stop()
        self._loaded(message.loaded)

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        message.stop()
        if message.token == -1:  # the suspects: the diff itself stands
            self.notify(message.message, severity="error", markup=False)
            return
        self._failed(message.token, message.message, notify=not message.bug)

    def _loaded(self, loaded: _Loaded) -> None:
        if loaded.token != self._token:
            return  # a newer request is under way
        self.prompt_id, self.old_version, self.new_version = loaded.prompt_id, loaded.old, loaded.new
        self.roles = loaded.roles
        self._texts = (loaded.old_text, loaded.new_text)
        self.status = ""
        message = ""
        if loaded.result.identical:
            what = "identical" if not self.ignore_whitespace else "identical apart from whitespace"
            message = f"v{loaded.old} and v{loaded.new} are {what}."
        self.view.set_diff(loaded.result, loaded.widths, message, auto_wrap=not self.wrap_chosen)
        if loaded.result.hunks:
            self.view.goto_hunk(0)
        self._update_header()
        self.post_message(self.Shown(self, loaded.prompt_id, loaded.old, loaded.new))

    def _failed(self, token: int, message: str, notify: bool = True) -> None:
        if token != self._token:
            return
        self.status = ""
        self._texts = None
        self.view.set_diff(None, message=message)
        self._update_header()
        if notify:
            self.notify(visible(message), severity="error", timeout=6, markup=False)

    # --- header ------------------------------------------------------------------------

    def _update_header(self) -> None:
        """Two lines: which versions and where the cursor is; then sizes and view flags.

        The text wraps (the header grows) rather than being cut, at any width."""
        header = Text(overflow="fold", end="")
        view = self.view
        if self.prompt_id is None or self.old_version is None or self.new_version is None:
            header.append(self.status or "Diff: v picks two versions", style="italic")
        else:
            header.append(visible(self.prompt_id), style="bold")
            old_role, new_role = self.roles or ("", "")
            header.append(f" v{self.old_version}")
            if old_role:
                header.append(f" ({old_role})", style="dim")
            header.append(" → ")
            header.append(f"v{self.new_version}")
            if new_role:
                header.append(f" ({new_role})", style="dim")
            result = view.result
            facts: list[str] = []
            if result is not None:
                n = len(result.hunks)
                if n == 0:
                    header.append(" · no changes")
                elif view.current_hunk is None:
                    header.append(f" · {n} change{'s' if n != 1 else ''}")
                else:
                    header.append(" · ")
                    header.append(f"change {view.current_hunk + 1} of {n}", style="bold")
                s = result.stats
                facts += [f"+{s.lines_added} −{s.lines_removed} lines", f"{s.words_changed} words"]
            facts += [
                "unified" if view.unified else "side by side",
                "unfolded" if not view.folded else "",
                "wrap" if view.wrap else "",
                "spaces shown" if view.show_whitespace else "",
                "ignoring whitespace" if self.ignore_whitespace else "",
                self.status,
            ]
            header.append("\n")
            header.append(" · ".join(f for f in facts if f), style="dim")
        self.query_one("#diff-header", Static).update(header)

    def on_resize(self) -> None:
        self.call_after_refresh(self._update_header)

    # --- actions -----------------------------------------------------------------------

    def _step(self, direction: int) -> None:
        if self.view.step_hunk(direction) is None:
            n = self.view.hunk_count
            self.notify("no changes" if n == 0 else ("last change" if direction > 0 else "first change"), timeout=2, markup=False)
        self._update_header()

    def action_next_change(self) -> None:
        self._step(+1)

    def action_previous_change(self) -> None:
        self._step(-1)

    def _toggle(self, attribute: str) -> None:
        view = self.view
        setattr(view, attribute, not getattr(view, attribute))
        view.relayout()
        self._update_header()

    def action_toggle_fold(self) -> None:
        self._toggle("folded")
        if self.view.current_hunk is not None:
            self.view.goto_hunk(self.view.current_hunk)

    def action_toggle_wrap(self) -> None:
        self.wrap_chosen = True
        self._toggle("wrap")

    def action_toggle_whitespace(self) -> None:
        self._toggle("show_whitespace")

    def action_toggle_layout(self) -> None:
        """Switch to the layout that is not on screen (the first layout follows the width)."""
        view = self.view
        view.layout_mode = "split" if view.unified else "unified"
        view.relayout()
        self._update_header()
        shown = "unified" if view.unified else "side by side"
        self.notify(f"layout: {shown} (u switches back)", timeout=2, markup=False)

    def action_toggle_ignore_whitespace(self) -> None:
        self.ignore_whitespace = not self.ignore_whitespace
        if self.prompt_id is not None and self.old_version is not None and self.new_version is not None:
            self._request(self.prompt_id, self.old_version, self.new_version, self.roles)
        else:
            self._update_header()

    def unified_text(self) -> str:
        """The shown diff as a unified diff (exact: it always applies with `patch`)."""
        if self._texts is None or self.prompt_id is None:
            return ""
        old, new = self._texts
        return unified_diff(old, new, f"{self.prompt_id}@v{self.old_version}", f"{self.prompt_id}@v{self.new_version}")

    def action_copy(self) -> None:
        text = self.unified_text()
        if self._texts is None:
            self.notify("nothing to copy: no diff shown", severity="warning", timeout=3, markup=False)
            return
        if not text:
            self.notify(f"v{self.old_version} and v{self.new_version} are identical: nothing to copy", timeout=3, markup=False)
            return
        self.app.copy_to_clipboard(text)
        lines = text.count("\n")
        self.notify(f"copied the unified diff v{self.old_version} → v{self.new_version} ({lines} lines) through the terminal "
                    "(OSC 52); if nothing pastes, your terminal blocks OSC 52", timeout=5, markup=False)

    def action_last_good(self) -> None:
        """Back to the incident's failing version vs the last good one; without an
        incident, the shown new version vs the last good one before it."""
        if self.incident_target is not None:
            self.show_incident(*self.incident_target)
            return
        if self.prompt_id is None or self.new_version is None:
            self.notify("no prompt shown yet: pick versions with v", severity="warning", timeout=3, markup=False)
            return
        self._request(self.prompt_id, None, self.new_version, ("last good", ""))

    def action_pick_versions(self) -> None:
        if self.prompt_id is None:
            self.notify("no prompt shown yet: open an incident's diff first", severity="warning", timeout=3, markup=False)
            return
        with self._db_lock():
            versions = self.prompt_service.versions(self.prompt_id)
            labels = self.prompt_service.labels(self.prompt_id)
        if len(versions) < 2:
            self.notify(f"{visible(self.prompt_id)} has fewer than two versions", severity="warning", timeout=3, markup=False)
            return
        prompt_id = self.prompt_id

        def picked(choice: tuple[int, int] | None) -> None:
            if choice is not None:
                self.show_versions(prompt_id, *choice)

        old = self.old_version or versions[-2].version
        new = self.new_version or versions[-1].version
        self.app.push_screen(VersionPicker(prompt_id, versions, old, new, labels), picked)


def _option(version: PromptVersion, labels: dict[str, int]) -> Option:
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(f"v{version.version:<4}", style="bold")
    label.append(version.created_at.strftime("%Y-%m-%d %H:%M"), style="dim")
    for name, number in sorted(labels.items()):
        if number == version.version:
            label.append(f" [{name}]", style="bold")
    if version.note:
        label.append("  " + visible(version.note.splitlines()[0] if version.note.strip() else ""))
    return Option(label, id=str(version.version))


class VersionPicker(Dialog[tuple[int, int] | None]):
    """Pick the old (left) and the new (right) version: enter on the left moves right,
    enter on the right diffs, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel", id="diff.picker.cancel")]

    DEFAULT_CSS = """
    VersionPicker { align: center middle; }
    VersionPicker > #picker { width: 90%; max-width: 140; height: 80%; border: round $accent; background: $surface; padding: 0 1; }
    VersionPicker #picker-lists { height: 1fr; }
    VersionPicker OptionList { width: 1fr; height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    VersionPicker .picker-line { height: 1; }
    """

    def __init__(
        self, prompt_id: str, versions: list[PromptVersion], old: int, new: int, labels: dict[str, int] | None = None
    ) -> None:
        super().__init__()
        self.prompt_id = prompt_id
        self.versions = versions
        self.labels = labels or {}
        self.initial = (old, new)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Text(f"Diff {visible(self.prompt_id)}: old version ← → new version", style="bold"), classes="picker-line")
            with Horizontal(id="picker-lists"):
                yield OptionList(*[_option(v, self.labels) for v in self.versions], id="picker-old")
                yield OptionList(*[_option(v, self.labels) for v in self.versions], id="picker-new")
            yield Static(Text("enter picks · tab switches side · esc cancels", style="dim"), classes="picker-line")

    def on_mount(self) -> None:
        numbers = [v.version for v in self.versions]
        old_list = self.query_one("#picker-old", OptionList)
        new_list = self.query_one("#picker-new", OptionList)
        old_list.highlighted = numbers.index(self.initial[0]) if self.initial[0] in numbers else 0
        new_list.highlighted = numbers.index(self.initial[1]) if self.initial[1] in numbers else len(numbers) - 1
        old_list.focus()

    @on(OptionList.OptionSelected, "#picker-old")
    def old_picked(self) -> None:
        self.query_one("#picker-new", OptionList).focus()

    @on(OptionList.OptionSelected, "#picker-new")
    def new_picked(self) -> None:
        old = self.query_one("#picker-old", OptionList).highlighted_option
        new = self.query_one("#picker-new", OptionList).highlighted_option
        if old is None or new is None or old.id is None or new.id is None:
            return
        self.dismiss((int(old.id), int(new.id)))

    def action_cancel(self) -> None:
        self.dismiss(None)
