"""One row of the form per template field: its label, the editor, and its lint line.

Labels, values and lint messages are Text objects: a field that says "[bold]" shows those
characters. A row does not save anything; the pane listens to the editors' messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, Static, TextArea

from incident_tui.domain.postmortem import LINE, PROSE, STATUS, DocStatus, FieldSpec

STATUS_OPTIONS = [(s.label, s.value) for s in DocStatus]
AUTO_MARK, EDITED_MARK, OPENED_MARK = "auto", "edited ✎", "override ✎"


@dataclass
class Refused(Message):
    """Someone typed or pasted into a field that follows the incident (``locked``)."""

    editor: Widget


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run ``widget``'s own binding for ``event`` now; True when one ran (the key is then used up).

    Textual runs a focused widget's bindings only once the key has bubbled up to the app, while
    printable keys are typed where they arrive: in a burst ("ab", backspace, "c"; ctrl+u, "P1")
    the letters behind a bound key overtook it. Run here, every key takes effect in order.
    """
    if event.is_printable:
        return False
    for binding in widget._bindings.key_to_bindings.get(event.key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            event.stop()
            event.prevent_default()
            return True
    return False


class OrderedInput(Input):
    """An Input whose own keys (backspace, ctrl+u, arrows, enter) act in the order they arrive."""

    async def _on_key(self, event: events.Key) -> None:
        if not await run_own_binding(self, event):
            await super()._on_key(event)


class LockedInput(OrderedInput):
    """An Input that refuses every edit while ``locked`` (a computed value nobody chose to override).

    Every keyboard edit of Input (keys, paste, cut, delete) goes through ``replace``, so refusing
    there refuses them all; the value can still be set by the form, selected and copied.
    """

    locked = False

    def replace(self, text: str, start: int, end: int) -> None:
        if self.locked:
            self.post_message(Refused(self))
            return
        super().replace(text, start, end)


class LockedTextArea(TextArea):
    """A TextArea that is read-only while ``locked``; typed keys and pastes are kept from the app's hotkeys."""

    @property
    def locked(self) -> bool:
        return self.read_only

    @locked.setter
    def locked(self, value: bool) -> None:
        self.read_only = value

    async def _on_key(self, event: events.Key) -> None:
        if self.read_only and (event.is_printable or event.key in ("backspace", "delete")):
            # A read-only TextArea lets the key bubble: "q" would reach the app's hotkeys.
            event.stop()
            event.prevent_default()
            self.post_message(Refused(self))
            return
        if event.key not in ("enter", "tab", "shift+tab") and await run_own_binding(self, event):
            return  # (enter and tab are typed by _on_key itself, not bound)
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        if self.read_only:
            event.stop()
            event.prevent_default()
            self.post_message(Refused(self))
            return
        await super()._on_paste(event)


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
    FieldRow .pm-label.-current { color: $accent; text-style: bold; }
    FieldRow .-locked { color: $text-muted; }
    """

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(id=f"pm-row-{spec.key}", classes=f"-{spec.kind}")
        self.spec = spec
        self.key = spec.key

    def compose(self) -> ComposeResult:
        label = Static(self._label_text(False, False), classes="pm-label")
        if self.spec.kind == PROSE:
            yield label
            yield LockedTextArea(
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
                    yield LockedInput("", placeholder=self.spec.hint, compact=True, id=f"pm-{self.key}",
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

    def _label_text(self, computed: bool, edited: bool, opened: bool = False) -> Text:
        text = Text(self.spec.label)
        if self.spec.kind == LINE and not self.spec.required:
            text.append(" (optional)", style="dim")
        if computed:
            text.append(f" · {AUTO_MARK}", style="dim italic")
        elif edited:
            text.append(f" · {EDITED_MARK}", style="bold italic")
        elif opened:
            text.append(f" · {OPENED_MARK}", style="italic")
        return text

    def show_origin(self, computed: bool, edited: bool, opened: bool = False) -> None:
        """Say whether the value follows the incident (auto), was typed over it (edited ✎), or is
        open for an override (``opened``: enter was pressed, nothing typed yet)."""
        update_if_changed(self._label, self._label_text(computed, edited, opened))

    @property
    def locked(self) -> bool:
        return bool(getattr(self._editor, "locked", False))

    def mark_current(self, current: bool) -> None:
        """Highlight the label of the row with focus (a class on the label alone: restyling the
        row would restyle its editor too, on every focus move)."""
        self._label.set_class(current, "-current")

    def set_locked(self, locked: bool) -> None:
        """Lock the editor against typing (an auto value) or open it (empty, overridden or not computed)."""
        editor = self._editor
        if hasattr(editor, "locked") and editor.locked != locked:
            editor.locked = locked
            editor.set_class(locked, "-locked")

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
