"""Pane 1: the active incidents, worst first, with live elapsed clocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from incident_tui.domain.models import Incident
from incident_tui.tui.render import incident_row


class IncidentList(OptionList):
    """Rows keyed by incident id so a refresh keeps the cursor on the same incident.

    Each line of a row is cut with an ellipsis when it is painted, at the width the list has
    then, so a long title never pushes a row to three lines and the cut does not depend on
    whether layout (a scrollbar, a modal) happened before or after the rows were set.
    """

    DEFAULT_CSS = """
    IncidentList {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        /* One free column before the border, narrow (Textual's compact style) or wide. */
        & > .option-list--option, &.-textual-compact > .option-list--option {
            padding: 0 1 0 0;
        }
    }
    """

    @dataclass
    class Selected(Message):
        incident_id: str | None

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.incidents: list[Incident] = []
        self.compact = False
        self._current: str | None = None
        self._plain: list[str] = []
        self._spans: list = []

    def on_mount(self) -> None:
        # The elapsed clocks move once a second; the timer is this widget's and ends with it.
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        clock = getattr(self.app, "clock", None)
        if clock is not None and self.incidents:
            self.show(self.incidents, clock(), compact=self.compact)

    @property
    def current_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None

    def show(self, incidents: list[Incident], now: datetime, *, compact: bool) -> None:
        """Replace rows in place when the set is unchanged (clock ticks), rebuild otherwise."""
        keep = self.current_id
        same = [i.id for i in incidents] == [i.id for i in self.incidents] and compact == self.compact
        self.incidents = incidents
        self.compact = compact
        rows = [incident_row(i, now, compact=compact) for i in incidents]
        if same:
            # Clock ticks: only rows whose words changed are re-rendered (most stay put for a minute).
            for index, row in enumerate(rows):
                if row.plain != self._plain[index] or row.spans != self._spans[index]:
                    self.replace_option_prompt_at_index(index, row)
            self._remember(rows)
            return
        self._remember(rows)
        self.set_options(Option(row, id=i.id) for row, i in zip(rows, incidents))
        if not incidents:
            self._announce(None)
            return
        ids = [i.id for i in incidents]
        self.highlighted = ids.index(keep) if keep in ids else 0
        self._announce(self.current_id)

    def _remember(self, rows) -> None:
        self._plain = [r.plain for r in rows]
        self._spans = [list(r.spans) for r in rows]

    def select_id(self, incident_id: str) -> None:
        for index, incident in enumerate(self.incidents):
            if incident.id == incident_id:
                self.highlighted = index
                return

    def _announce(self, incident_id: str | None) -> None:
        if incident_id != self._current:
            self._current = incident_id
            self.post_message(self.Selected(incident_id))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._announce(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._announce(event.option.id)
        self.call_later(self.app.run_action, "pane('timeline')")
