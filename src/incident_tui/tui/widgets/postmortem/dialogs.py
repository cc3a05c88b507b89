"""The postmortem's small dialogs: a list item, an action item, a waiver, the final checklist, export.

Conventions of the app's other forms: enter moves to the next field and submits on the last,
ctrl+s submits from anywhere, escape cancels. Every text shown is a Text object. Enter and tab
move focus as the key is read, so text typed straight after them (a burst) lands in the next
field, as if typed slowly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from incident_tui.domain.export import EXTENSIONS, FORMATS
from incident_tui.domain.postmortem import (
    ActionItem,
    ActionKind,
    ActionStatus,
    CheckItem,
    parse_date,
)
from incident_tui.tui.screens.dialog import Dialog, form_keys
from incident_tui.tui.widgets.postmortem.fields import OrderedInput


class PostmortemDialog(Dialog):
    BINDINGS = [
        Binding("escape", "cancel", "cancel", id="postmortem.dialog.cancel"),
        Binding("ctrl+s", "submit", "submit", id="postmortem.dialog.submit"),
        *form_keys("postmortem.dialog"),  # enter: next field, submit on the last; tab / shift+tab (see Dialog)
    ]
    DEFAULT_CSS = """
    PostmortemDialog { align: center middle; }
    PostmortemDialog > #pm-dialog {
        width: 76; max-width: 96%; height: auto; max-height: 92%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    PostmortemDialog .pm-dialog-title { text-style: bold; height: auto; }
    PostmortemDialog .pm-dialog-label { color: $text-muted; height: 1; }
    PostmortemDialog .pm-dialog-row { height: auto; margin-top: 1; }
    PostmortemDialog .pm-dialog-row .pm-dialog-label { width: 14; }
    PostmortemDialog .pm-dialog-row Input, PostmortemDialog .pm-dialog-row Select { width: 1fr; }
    PostmortemDialog Input, PostmortemDialog Select { background: $boost; }
    PostmortemDialog Input:focus, PostmortemDialog Select:focus { background: $accent 30%; }
    PostmortemDialog .pm-dialog-hint { color: $text-muted; height: auto; }
    PostmortemDialog #pm-dialog-error { color: $error; height: auto; }
    PostmortemDialog .pm-dialog-buttons { height: auto; margin-top: 1; }
    PostmortemDialog .pm-dialog-buttons Button { margin-right: 2; }
    PostmortemDialog .pm-check { height: auto; }
    """

    title_text = ""

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def compose_buttons(self) -> ComposeResult:
        yield Button("Save (ctrl+s)", variant="primary", id="pm-dialog-ok", compact=True)
        yield Button("Cancel (esc)", id="pm-dialog-cancel", compact=True)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="pm-dialog"):
            yield Static(Text(self.title_text), classes="pm-dialog-title")
            yield from self.compose_fields()
            yield Static("", id="pm-dialog-error")
            with Horizontal(classes="pm-dialog-buttons"):
                yield from self.compose_buttons()

    def on_mount(self) -> None:
        # The scroll container would take focus first; typing belongs in the first field.
        first = next(iter(self.query("Input, Select, Button").results()), None)
        if first is not None:
            first.focus()

    def label(self, text: str) -> Static:
        return Static(Text(text), classes="pm-dialog-label")

    def error(self, message: str) -> None:
        self.query_one("#pm-dialog-error", Static).update(Text(message))

    def result(self):
        """The value to dismiss with, or None after calling ``error``."""
        raise NotImplementedError

    def action_submit(self) -> None:
        value = self.result()
        if value is not None:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#pm-dialog-ok")
    def _ok(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#pm-dialog-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def form_fields(self) -> list[Widget]:
        return list(self.query("Input, Select").results())


class ItemDialog(PostmortemDialog):
    """One line of text: a contributing factor."""

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose_fields(self) -> ComposeResult:
        yield OrderedInput(self.value, placeholder=self.placeholder, id="pm-item", compact=True)

    def result(self) -> str | None:
        text = self.query_one("#pm-item", Input).value.strip()
        if not text:
            self.error("Type something (escape cancels)")
            return None
        return text


KIND_OPTIONS = [(k.label, k.value) for k in ActionKind]
ACTION_STATUS_OPTIONS = [(s.label, s.value) for s in ActionStatus]


class ActionDialog(PostmortemDialog):
    """Every field of an action item; the due date must be YYYY-MM-DD when given."""

    def __init__(self, title: str, item: ActionItem | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.item = item or ActionItem()

    def row(self, label: str, widget) -> Horizontal:
        return Horizontal(Static(Text(label), classes="pm-dialog-label"), widget, classes="pm-dialog-row")

    def compose_fields(self) -> ComposeResult:
        item = self.item
        yield self.row("Action", OrderedInput(item.text, id="pm-a-text", compact=True,
                                              placeholder="what will be done, e.g. add refund questions to the eval"))
        yield self.row("Owner", OrderedInput(item.owner, id="pm-a-owner", placeholder="a person, not a team",
                                             compact=True))
        yield self.row("Due date", OrderedInput(item.due, id="pm-a-due", placeholder="YYYY-MM-DD",
                                                compact=True))
        yield self.row("Kind", Select(KIND_OPTIONS, value=item.kind.value, allow_blank=False, id="pm-a-kind",
                                      compact=True))
        yield self.row("Status", Select(ACTION_STATUS_OPTIONS, value=item.status.value, allow_blank=False,
                                        id="pm-a-status", compact=True))
        yield self.row("Tracking", OrderedInput(item.link, id="pm-a-link", placeholder="optional link https://…",
                                                compact=True))
        yield Static(Text("enter: next field · ctrl+s: save · esc: cancel", style="dim"), classes="pm-dialog-hint")

    def result(self) -> ActionItem | None:
        value = lambda key: self.query_one(f"#pm-a-{key}", Input).value.strip()  # noqa: E731
        if not value("text"):
            self.error("Say what will be done")
            return None
        due = value("due")
        if due and parse_date(due) is None:
            self.error(f"Due date {due!r} is not a date: use YYYY-MM-DD")
            return None
        return ActionItem(
            text=value("text"),
            owner=value("owner"),
            due=due,
            kind=ActionKind(self.query_one("#pm-a-kind", Select).value),
            status=ActionStatus(self.query_one("#pm-a-status", Select).value),
            link=value("link"),
        )


class WaiverDialog(PostmortemDialog):
    """Waive one kind of action item with a reason; an empty reason lifts the waiver."""

    def __init__(self, kind: ActionKind, waivers: dict[ActionKind, str]) -> None:
        super().__init__()
        self.title_text = "Waive a kind of action item (the reason goes in the postmortem)"
        self.kind = kind
        self.waivers = dict(waivers)

    def compose_fields(self) -> ComposeResult:
        yield ActionDialog.row(self, "Kind", Select(KIND_OPTIONS, value=self.kind.value, allow_blank=False,
                                                     id="pm-w-kind", compact=True))
        reason = OrderedInput(self.waivers.get(self.kind, ""), id="pm-w-reason", compact=True,
                              placeholder="why no action of this kind (empty: no waiver)")
        yield ActionDialog.row(self, "Reason", reason)

    @on(Select.Changed, "#pm-w-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.query_one("#pm-w-reason", Input).value = self.waivers.get(ActionKind(event.value), "")

    def result(self) -> tuple[ActionKind, str]:
        return ActionKind(self.query_one("#pm-w-kind", Select).value), self.query_one("#pm-w-reason", Input).value


class ChecklistDialog(PostmortemDialog):
    """The checks a final postmortem passes; "Mark final" only when all do."""

    def __init__(self, items: list[CheckItem], empty_fields: list[str] | None = None) -> None:
        super().__init__()
        self.items = items
        self.empty_fields = empty_fields or []
        self.ready = all(i.ok for i in items)
        self.title_text = ("Ready to mark final · ctrl+s marks it final · esc goes back" if self.ready
                           else "Not final yet: fix these first · esc goes back")

    def compose_fields(self) -> ComposeResult:
        for item in self.items:
            text = Text.assemble(("✓ " if item.ok else "✗ ", "bold green" if item.ok else "bold red"))
            text.append(item.label, style="" if item.ok else "bold")
            for problem in item.problems:
                text.append("\n    ")
                text.append(problem, style="dim")
            yield Static(text, classes="pm-check")
        if self.empty_fields:
            # Not a blocker (the template's checks are), but a final document should not surprise.
            note = Text.assemble(("! ", "bold yellow"))
            note.append(f"Still empty (not needed to mark it final): {', '.join(self.empty_fields)}")
            yield Static(note, classes="pm-check")

    def compose_buttons(self) -> ComposeResult:
        yield Button("Mark final (ctrl+s)", variant="primary", id="pm-dialog-ok", disabled=not self.ready,
                     compact=True)
        yield Button("Back (esc)", id="pm-dialog-cancel", compact=True)

    def on_mount(self) -> None:
        # Focus the way out, but keep the list scrolled to its top: the first problems matter most.
        self.query_one("#pm-dialog-ok" if self.ready else "#pm-dialog-cancel", Button).focus(scroll_visible=False)

    def result(self) -> bool | None:
        if not self.ready:
            self.error("Fix the ✗ items first; the form shows each problem beside its field")
            return None
        return True


@dataclass(frozen=True)
class ExportChoice:
    fmt: str
    whole: bool
    action: str  # "copy" or "file"
    path: Path | None = None


class ExportDialog(PostmortemDialog):
    """Choose a format and the scope, then copy (ctrl+y) or save to a file (ctrl+s)."""

    BINDINGS = [Binding("ctrl+y", "copy", "copy", id="postmortem.dialog.copy")]

    def __init__(self, fmt: str, section_title: str, stem: str, directory: Path) -> None:
        super().__init__()
        self.title_text = "Copy or save the postmortem"
        self.fmt = fmt
        self.section_title = section_title
        self.stem = stem
        self.directory = directory

    def _default_path(self, fmt: str) -> str:
        return str(self.directory / f"{self.stem}.{EXTENSIONS[fmt]}")

    def compose_fields(self) -> ComposeResult:
        row = partial(ActionDialog.row, self)
        yield row("Format", Select([(f, f) for f in FORMATS], value=self.fmt, allow_blank=False, id="pm-x-format",
                                   compact=True))
        yield row("What", Select([("the whole postmortem", "all"), (f"this section: {self.section_title}", "section")],
                                 value="all", allow_blank=False, id="pm-x-scope", compact=True))
        yield row("File", OrderedInput(self._default_path(self.fmt), id="pm-x-path", compact=True))
        yield Static(Text("ctrl+y: copy · ctrl+s: save to the file · esc: cancel", style="dim"),
                     classes="pm-dialog-hint")

    def compose_buttons(self) -> ComposeResult:
        yield Button("Copy (ctrl+y)", variant="primary", id="pm-x-copy", compact=True)
        yield Button("Save to file (ctrl+s)", id="pm-dialog-ok", compact=True)
        yield Button("Cancel (esc)", id="pm-dialog-cancel", compact=True)

    @on(Select.Changed, "#pm-x-format")
    def _format_changed(self, event: Select.Changed) -> None:
        path = self.query_one("#pm-x-path", Input)
        # Follow the format only while the user has not typed a path of their own.
        if path.value in {self._default_path(f) for f in FORMATS}:
            path.value = self._default_path(str(event.value))

    def _choice(self, action: str) -> ExportChoice | None:
        fmt = str(self.query_one("#pm-x-format", Select).value)
        whole = self.query_one("#pm-x-scope", Select).value == "all"
        path = None
        if action == "file":
            raw = self.query_one("#pm-x-path", Input).value.strip()
            if not raw:
                self.error("Give a file name")
                return None
            path = Path(raw).expanduser()
            if not path.is_absolute():
                path = self.directory / path
        return ExportChoice(fmt, whole, action, path)

    def result(self) -> ExportChoice | None:
        return self._choice("file")

    def action_copy(self) -> None:
        choice = self._choice("copy")
        if choice is not None:
            self.dismiss(choice)

    @on(Button.Pressed, "#pm-x-copy")
    def _copy_pressed(self) -> None:
        self.action_copy()
