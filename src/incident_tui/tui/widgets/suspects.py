"""What changed before impact, above the diff: the incident's suspects, closest first.

Enter on a prompt change shows its diff; `l` links the highlighted change to the timeline as a
suspect; changes after impact start are listed apart, dimmed, never as causes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from incident_tui.domain.changes import ChangeKind, Suspect
from incident_tui.domain.text import visible
from incident_tui.domain.times import format_duration

KIND_MARK = {ChangeKind.PROMPT: "P", ChangeKind.MODEL: "M", ChangeKind.CONFIG: "C", ChangeKind.DATA: "D",
             ChangeKind.DEPLOY: "R", ChangeKind.OTHER: "?"}


def suspect_row(s: Suspect, width: int = 0) -> Text:
    c = s.change
    row = Text(no_wrap=True, overflow="ellipsis")
    if s.before_impact:
        row.append(f"{format_duration(timedelta(minutes=s.minutes_before_impact)):>7} before ", style="bold yellow")
    else:
        row.append(" after impact ", style="dim italic")
    row.append(f"{KIND_MARK[c.kind]} {c.kind.value:<6} ", style="cyan" if s.before_impact else "dim")
    row.append(visible(c.summary), style="" if s.before_impact else "dim")
    row.append(f"  {c.id}", style="dim")
    if width > 0 and row.cell_len > width:
        row.truncate(width, overflow="ellipsis")  # one line each: the diff keeps its room
    return row


class SuspectList(OptionList):
    """The ranked changes of one incident."""

    DEFAULT_CSS = """
    SuspectList { height: auto; max-height: 7; border: none; padding: 0 1; }
    """
    BINDINGS = [
        Binding("enter", "open", "diff / link", id="changes.open"),
        Binding("l", "link", "link as suspect", id="changes.link"),
    ]

    @dataclass
    class OpenPrompt(Message):
        """Show the diff of a prompt change."""

        prompt_id: str
        old_version: int
        new_version: int

    @dataclass
    class Link(Message):
        """Stamp the change on the timeline as a suspect."""

        change_id: str

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.suspects: list[Suspect] = []

    def show(self, suspects: list[Suspect]) -> None:
        keep = self.highlighted
        self.suspects = suspects
        if not suspects:
            self.set_options([Option(Text("No recorded change in the 72 h before impact. "
                                          "C records one (incident-tui change add, for pipelines).",
                                          style="dim"), disabled=True)])
            return
        width = max(self.scrollable_content_region.width - 1, 0)
        self.set_options(Option(suspect_row(s, width), id=s.change.id) for s in suspects)
        self.highlighted = min(keep or 0, len(suspects) - 1)

    def on_resize(self) -> None:
        if self.suspects:
            self.call_after_refresh(self.show, self.suspects)

    @property
    def current(self) -> Suspect | None:
        if self.highlighted is None or not self.suspects:
            return None
        return self.suspects[self.highlighted]

    def action_open(self) -> None:
        s = self.current
        if s is None:
            return
        c = s.change
        if c.kind is ChangeKind.PROMPT and c.from_version is not None and c.to_version is not None and c.prompt_id:
            self.post_message(self.OpenPrompt(c.prompt_id, c.from_version, c.to_version))
        else:
            self.post_message(self.Link(c.id))

    def action_link(self) -> None:
        if self.current is not None:
            self.post_message(self.Link(self.current.change.id))
