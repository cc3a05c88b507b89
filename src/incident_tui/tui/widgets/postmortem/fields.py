"""One row of the form per template field: its label, the editor, and its lint line.

Labels, values and lint messages are Text objects: a field that says "[bold]" shows those
characters. A row does not save anything; the pane listens to the editors' messages.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Select, Static, TextArea

from incident_tui.domain.postmortem import LINE, PROSE, STATUS, DocStatus, FieldSpec

STATUS_OPTIONS = [(s.label, s.value) for s in DocStatus]


def update_if_changed(widget: Static, text: Text) -> None:
    """Static.update re-lays out the whole form; with ~100 widgets that is felt on every key."""
    if getattr(widget, "_pm_shown", None) != text:
        widget._pm_shown = text
        widget.update(text)


class FieldRow(Vertical):
    """A labelled editor for one text field (or the document status)."""

    DEFAULT_CSS = """
    FieldRow { height: auto; }
    FieldRow > .pm-row { height: auto; }
    FieldRow .pm-label { width: 24; height: auto; color: $text-muted; padding-right: 1; }
    FieldRow.-prose .pm-label { width: 100%; }
    FieldRow Input { width: 1fr; }
    FieldRow Select { width: 1fr; }
    FieldRow TextArea { height: auto; min-height: 4; max-height: 14; }
    FieldRow .pm-lint { height: auto; display: none; color: $warning; padding-left: 2; }
    FieldRow .pm-lint.-error { color: $error; }
    FieldRow .pm-lint.-shown { display: block; }
    FieldRow.-current .pm-label { color: $accent; text-style: bold; }
    """

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(id=f"pm-row-{spec.key}", classes=f"-{spec.kind}")
        self.spec = spec
        self.key = spec.key

    def compose(self) -> ComposeResult:
        label = Static(self._label_text(False, False), classes="pm-label")
        if self.spec.kind == PROSE:
            yield label
            yield TextArea(
                "", id=f"pm-{self.key}", soft_wrap=True, tab_behavior="focus", show_line_numbers=False,
                placeholder=self.spec.hint, highlight_cursor_line=False,
            )
        else:
            with Horizontal(classes="pm-row"):
                yield label
                if self.spec.kind == STATUS:
                    yield Select(STATUS_OPTIONS, value=DocStatus.DRAFT.value, allow_blank=False, compact=True,
                                 id=f"pm-{self.key}")
                else:
                    yield Input("", placeholder=self.spec.hint, compact=True, id=f"pm-{self.key}",
                                select_on_focus=False)
        yield Static("", classes="pm-lint")

    # --- what the pane reads and sets -----------------------------------------------------

    def on_mount(self) -> None:
        # Looked up once: the pane refreshes lint and labels on every key.
        self._label = self.query_one(".pm-label", Static)
        self._lint = self.query_one(".pm-lint", Static)
        self._editor = self.query_one(f"#pm-{self.key}")

    @property
    def editor(self):
        return self._editor

    @property
    def value(self) -> str:
        editor = self.editor
        if isinstance(editor, TextArea):
            return editor.text
        return str(editor.value)

    def set_value(self, value: str) -> None:
        editor = self.editor
        if isinstance(editor, TextArea):
            if editor.text != value:
                editor.load_text(value)
        elif isinstance(editor, Select):
            if editor.value != value:
                editor.value = value
        elif editor.value != value:
            editor.value = value
            editor.cursor_position = len(value)

    def _label_text(self, computed: bool, edited: bool) -> Text:
        text = Text(self.spec.label)
        if self.spec.kind == LINE and not self.spec.required:
            text.append(" (optional)", style="dim")
        if computed:
            text.append(" · auto", style="dim italic")
        elif edited:
            text.append(" · edited", style="italic")
        return text

    def show_origin(self, computed: bool, edited: bool) -> None:
        """Say whether the value follows the incident (auto) or was typed over it (edited)."""
        update_if_changed(self._label, self._label_text(computed, edited))

    def show_lint(self, messages: list[tuple[str, str]]) -> None:
        """(level, message) pairs; none hides the line."""
        lint = self._lint
        if not messages:
            lint.set_class(False, "-shown")
            update_if_changed(lint, Text())
            return
        text = Text()
        for i, (level, message) in enumerate(messages):
            if i:
                text.append("\n")
            text.append("✗ " if level == "error" else "! ", style="bold")
            text.append(message)
        update_if_changed(lint, text)
        lint.set_class(True, "-shown")
        lint.set_class(any(level == "error" for level, _ in messages), "-error")
