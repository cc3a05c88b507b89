"""One modal form for every small dialog: declare, people, edit, samples, reasons.

Enter moves to the next field and submits on the last; ctrl+s submits from anywhere; escape
cancels. A validator may refuse the values with one line, shown in the form, nothing lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from incident_tui.tui.screens.dialog import Dialog, form_keys


@dataclass
class Field:
    name: str
    label: str
    kind: str = "input"  # input | select | textarea
    value: str = ""
    placeholder: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (label, value) for select
    suggestions: list[str] = field(default_factory=list)
    hint: str = ""


Validator = Callable[[dict[str, str]], str | None]


class FormScreen(Dialog[dict[str, str] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+s", "submit", "submit"),
        *form_keys(),  # enter: next field, submit on the last; tab / shift+tab (see Dialog)
    ]

    def __init__(self, title: str, fields: list[Field], *, submit: str = "OK", intro: str = "",
                 validate: Validator | None = None) -> None:
        super().__init__(classes="form-screen")
        self.form_title = title
        self.fields = fields
        self.submit_label = submit
        self.intro = intro
        self.validator = validate

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-box"):
            yield Static(Text(self.form_title, style="bold"), id="form-title")
            if self.intro:
                yield Static(Text(self.intro), id="form-intro")
            for f in self.fields:
                with Horizontal(classes="form-row"):
                    yield Label(Text(f.label), classes="form-label")
                    if f.kind == "select":
                        yield Select(f.options, value=f.value or f.options[0][1], allow_blank=False,
                                     id=f"f-{f.name}", compact=True)
                    elif f.kind == "textarea" or "\n" in f.value:  # a one-line Input would print the newline raw
                        yield TextArea(f.value, id=f"f-{f.name}", classes="form-area", soft_wrap=True)
                    else:
                        suggester = SuggestFromList(f.suggestions, case_sensitive=False) if f.suggestions else None
                        yield Input(f.value, placeholder=f.placeholder, id=f"f-{f.name}", suggester=suggester,
                                    compact=True)
                if f.hint:
                    yield Static(Text(f.hint, style="dim"), classes="form-hint")
            yield Static(id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(f"{self.submit_label} (ctrl+s)", variant="primary", id="form-ok")
                yield Button("Cancel (esc)", id="form-cancel")

    def on_mount(self) -> None:
        # The scrolling box would take focus first; the first field is where typing belongs.
        self.set_focus(self.query_one(f"#f-{self.fields[0].name}"))

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.name}")
            if isinstance(widget, Select):
                out[f.name] = str(widget.value)
            elif isinstance(widget, TextArea):
                out[f.name] = widget.text
            else:
                out[f.name] = self.query_one(f"#f-{f.name}", Input).value
        return out

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(Text(message, style="bold red"))

    def form_fields(self) -> list[Widget]:
        return [self.query_one(f"#f-{f.name}") for f in self.fields]

    @on(Button.Pressed, "#form-ok")
    def action_submit(self) -> None:
        values = self.values()
        if self.validator is not None:
            error = self.validator(values)
            if error:
                self.show_error(error)
                return
        self.dismiss(values)

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Dialog[bool]):
    """Names exactly what will happen; y or enter confirms, n or escape does nothing."""

    BINDINGS = [
        Binding("y", "answer(True)", "yes"),
        Binding("n", "answer(False)", "no"),
        Binding("escape", "answer(False)", "no", show=False),
    ]

    def __init__(self, title: str, body: Text | str, *, yes: str = "Do it") -> None:
        super().__init__(classes="form-screen")
        self.confirm_title = title
        self.body = body if isinstance(body, Text) else Text(body)
        self.yes = yes

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-box"):
            yield Static(Text(self.confirm_title, style="bold"), id="form-title")
            yield Static(self.body, id="confirm-body")
            with Horizontal(id="form-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="confirm-yes")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#confirm-yes", Button))

    @on(Button.Pressed, "#confirm-yes")
    def yes_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def no_pressed(self) -> None:
        self.dismiss(False)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
