"""The two list fields: contributing factors and action items, edited from the keyboard.

The lists only ask (add, edit, delete, move, undo, waive) by posting a message; the pane does
the store work and then calls ``show`` with the new items.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from incident_tui.domain.postmortem import ActionItem, ActionKind, parse_date

KIND_TAGS = {
    ActionKind.PREVENTS_RECURRENCE: "prevent",
    ActionKind.IMPROVES_DETECTION: "detect",
    ActionKind.IMPROVES_RESPONSE: "respond",
}


class EditableList(OptionList):
    """An OptionList whose items can be added, edited, moved and deleted by keys."""

    BINDINGS = [
        Binding("ctrl+n,insert", "add", "add", id="postmortem.list.add"),
        Binding("enter", "edit", "edit", id="postmortem.list.edit"),
        Binding("delete,ctrl+d", "delete", "delete", id="postmortem.list.delete"),
        Binding("shift+up", "move(-1)", "move up", id="postmortem.list.up"),
        Binding("shift+down", "move(1)", "move down", id="postmortem.list.down"),
        Binding("ctrl+z", "undo", "undo delete", show=False, id="postmortem.list.undo"),
    ]

    DEFAULT_CSS = """
    EditableList { height: auto; max-height: 14; min-height: 3; border: tall $border-blurred; }
    EditableList:focus { border: tall $border; }
    """

    @dataclass
    class Request(Message):
        """``what``: add, edit, delete, move or undo; ``index`` of the highlighted item (None if empty)."""

        list: EditableList
        what: str
        index: int | None
        delta: int = 0

        @property
        def control(self) -> EditableList:
            return self.list

    empty_text = "Nothing yet: ctrl+n adds one"

    def show_items(self, prompts: list[Text], keep: int | None = None) -> None:
        """Replace the rows, keeping the highlight on ``keep`` (or where it was)."""
        current = self.highlighted if keep is None else keep
        if prompts:
            self.set_options([Option(p) for p in prompts])
            self.highlighted = max(0, min(current if current is not None else 0, len(prompts) - 1))
        else:
            self.set_options([Option(Text(self.empty_text, style="dim italic"), disabled=True)])
            self.highlighted = None
        self._count = len(prompts)

    @property
    def count(self) -> int:
        return getattr(self, "_count", 0)

    def _index(self) -> int | None:
        return self.highlighted if self.count and self.highlighted is not None else None

    def action_add(self) -> None:
        index = self._index()
        self.post_message(self.Request(self, "add", None if index is None else index + 1))

    def action_edit(self) -> None:
        if self._index() is not None:
            self.post_message(self.Request(self, "edit", self._index()))

    def action_delete(self) -> None:
        if self._index() is not None:
            self.post_message(self.Request(self, "delete", self._index()))

    def action_move(self, delta: int) -> None:
        index = self._index()
        if index is not None and 0 <= index + delta < self.count:
            self.post_message(self.Request(self, "move", index, delta))

    def action_undo(self) -> None:
        self.post_message(self.Request(self, "undo", self._index()))


class FactorList(EditableList):
    def show_factors(self, factors: list[str], keep: int | None = None) -> None:
        self.show_items([Text.assemble((f"{n}. ", "dim"), f) for n, f in enumerate(factors, 1)], keep)


class ActionList(EditableList):
    BINDINGS = [Binding("w", "waive", "waive a kind", id="postmortem.actions.waive")]

    def show_actions(self, items: list[ActionItem], keep: int | None = None) -> None:
        self.show_items([action_prompt(n, item) for n, item in enumerate(items, 1)], keep)

    def action_waive(self) -> None:
        self.post_message(self.Request(self, "waive", self._index()))


def action_prompt(n: int, item: ActionItem) -> Text:
    """Two lines per item: what, then kind · owner · due · status · link, with gaps flagged."""
    text = Text.assemble((f"{n}. ", "dim"))
    text.append(f"[{KIND_TAGS[item.kind]}] ", style="bold")
    text.append(item.text or "(no text)", style="" if item.text else "dim italic")
    text.append("\n   ")
    text.append(f"owner {item.owner}" if item.owner else "✗ no owner", style="" if item.owner else "bold red")
    text.append(" · ")
    if not item.due:
        text.append("✗ no due date", style="bold red")
    elif parse_date(item.due) is None:
        text.append(f"✗ due {item.due}?", style="bold red")
    else:
        text.append(f"due {item.due}")
    text.append(f" · {item.status.label}")
    if item.link:
        text.append(f" · {item.link}", style="underline")
    return text
