"""A modal list to pick one thing from: milestones, triage categories."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class ChoiceScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, choices: list[tuple[str, Text | str]], *, intro: str = "") -> None:
        super().__init__(classes="form-screen")
        self.choice_title = title
        self.choices = choices
        self.intro = intro

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
        self.query_one("#choice-list", OptionList).focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
