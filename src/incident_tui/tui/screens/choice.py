"""A modal list to pick one thing from: milestones, triage categories, what to do instead of diagnosing.

Enter picks the highlighted line; a choice may also have its own key (``keys``), which works
wherever the focus is in the dialog because nothing in it takes typed text.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from incident_tui.tui.screens.dialog import Dialog


class ChoiceScreen(Dialog[str | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, choices: list[tuple[str, Text | str]], *, intro: str = "",
                 keys: dict[str, str] | None = None) -> None:
        super().__init__(classes="form-screen")
        self.choice_title = title
        self.choices = choices
        self.intro = intro
        self.shortcuts = keys or {}  # key -> choice id

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(Text(self.choice_title, style="bold"), id="form-title")
            if self.intro:
                yield Static(Text(self.intro, style="dim"), id="form-intro")
            yield OptionList(
                *[Option(label if isinstance(label, Text) else Text(label), id=key) for key, label in self.choices],
                id="choice-list",
            )

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#choice-list", OptionList))

    def on_key(self, event: events.Key) -> None:
        choice = self.shortcuts.get(event.key)
        if choice is not None:
            event.stop()
            self.dismiss(choice)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
