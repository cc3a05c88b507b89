"""Pane 2: the selected incident's timeline, with the note line at its foot."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from incident_tui.domain.models import TimelineEvent
from incident_tui.tui.render import event_row, spans_days

FILTERS = ("all", "starred", "manual")


class NoteInput(Input):
    """One line; enter stamps it, escape leaves it (what was typed stays for next time).

    Enter empties the line at once, so what is typed next (even in the same burst of keys) is
    the next note; a note the store refuses comes back with ``give_back``. A pasted line break
    stamps the line before it, as a typed enter would: a paste of three lines is three notes, and
    a last line without a line break stays in the line to finish. Lines, not one note, because
    the note line shows one line: what it stamps is what was on screen, and each line keeps its
    own leading time ("14:32 …") just as if typed.
    """

    BINDINGS = [
        Binding("enter", "submit", "stamp note"),
        Binding("escape", "leave", "back to timeline"),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.held: list[str] = []  # refused notes waiting for the line to be free

    def action_leave(self) -> None:
        self.screen.set_focus(self.screen.query_one("#timeline-events"))

    async def action_submit(self) -> None:
        self._stamp(self.value)

    def _stamp(self, text: str) -> None:
        if not text.strip():
            return
        self.value = self.held.pop(0) if self.held else ""
        self.post_message(self.Submitted(self, text))

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # Input's own handler keeps only the first line
        event.stop()
        lines = event.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if len(lines) == 1:
            self.insert_text_at_cursor(lines[0])
            return
        head, tail = self.value[: self.cursor_position], self.value[self.cursor_position:]
        lines[0] = head + lines[0]
        self.value = ""
        for line in lines[:-1]:
            self._stamp(line)
        if not self.value:
            self.value = lines[-1] + tail
            self.cursor_position = len(lines[-1])

    def give_back(self, text: str) -> None:
        """A note that was not stored returns to the line, or waits until the line is empty."""
        if not self.value.strip():
            self.value = text
            self.cursor_position = len(text)
        else:
            self.held.append(text)


class EventList(OptionList):
    """The events; a new width (zoom, terminal resize) re-wraps them once the layout has settled."""

    # The list's box is set by the pane (1fr), not by how many events it holds: another incident's
    # timeline repaints the list and its scrollbar without a layout of the whole screen. (A
    # scrollbar that appears or goes still asks for one: show_vertical_scrollbar does.)
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def on_resize(self) -> None:
        pane = self.parent
        if isinstance(pane, TimelinePane):
            self.call_after_refresh(pane.rewrap)


class TimelinePane(Vertical):
    """The events list, a filter line and the note input."""

    # Rows show the head of a long text; enter (or v) on an event shows all of it.
    BINDINGS = [Binding("v", "view_event", "whole text of the event", show=False, id="timeline.view")]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.events: list[TimelineEvent] = []
        self.filter = "all"
        self.incident_id: str | None = None
        self._now: datetime | None = None
        self._wrapped_at = -1
        self._title_only = False

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-filter")
        yield EventList(id="timeline-events")
        yield NoteInput(placeholder="note ▸ n to write · 14:32 or -5m first backdates · enter stamps", id="note")

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#timeline-events", OptionList)

    @property
    def selected_event(self) -> TimelineEvent | None:
        option = self.option_list.highlighted_option
        if option is None or option.id is None:
            return None
        doc_id = int(option.id)
        return next((e for e in self.events if e.doc_id == doc_id), None)

    def visible_events(self) -> list[TimelineEvent]:
        if self.filter == "starred":
            return [e for e in self.events if e.starred]
        if self.filter == "manual":
            return [e for e in self.events if e.kind.manual]
        return self.events

    def show(self, incident_id: str | None, events: list[TimelineEvent], now: datetime) -> None:
        """Keep the cursor on the same event; follow the tail when it was on the last line."""
        option_list = self.option_list
        keep = option_list.highlighted_option.id if option_list.highlighted_option else None
        at_end = option_list.highlighted is None or option_list.highlighted >= option_list.option_count - 1
        self._now = now
        new_incident = incident_id != self.incident_id
        self.incident_id = incident_id
        self.events = events
        shown = self.visible_events()
        with_date = spans_days(events, now)
        width = max(option_list.scrollable_content_region.width - 1, 0)
        self._wrapped_at = width
        option_list.set_options(
            Option(event_row(e, now, with_date=with_date, width=width), id=str(e.doc_id)) for e in shown
        )
        if shown:
            ids = [str(e.doc_id) for e in shown]
            option_list.highlighted = len(shown) - 1 if (new_incident or at_end or keep not in ids) else ids.index(keep)
        starred = sum(1 for e in events if e.starred)
        label = Text()
        label.append(f"filter: {self.filter}", style="bold")
        label.append(f" (f) · {len(shown)} of {len(events)} events · {starred} starred", style="dim")
        self.query_one("#timeline-filter", Static).update(label, layout=False)

    def set_title(self, title: Text) -> None:
        """A new border title repaints the border's top line, not the whole pane (each selection)."""
        self._title_only = True
        try:
            self.border_title = title
        finally:
            self._title_only = False

    def refresh(self, *regions: Region, **kwargs) -> Self:
        if self._title_only and not regions and self.is_mounted:
            x, y = self.content_offset  # regions are given inside border and padding: the title is above
            regions = (Region(-x, -y, self.size.width, 1),)
        return super().refresh(*regions, **kwargs)

    def action_view_event(self) -> None:
        from incident_tui.tui.screens.text_view import TextViewScreen

        event = self.selected_event
        if event is None:
            return
        local = event.at.astimezone(self._now.tzinfo if self._now else None)
        who = f" · {event.author}" if event.author else ""
        title = f"{event.incident_id} · {local:%b %d %H:%M}{who} · {event.kind.value}"
        self.app.push_screen(TextViewScreen(title, event.text))

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        if message.option_list.id == "timeline-events":
            message.stop()
            self.action_view_event()

    def on_resize(self) -> None:
        self.call_after_refresh(self.rewrap)

    def rewrap(self) -> None:
        # Lines are wrapped to the width (continuations under the text): a new width re-wraps them.
        width = max(self.option_list.scrollable_content_region.width - 1, 0)
        if self._now is not None and width != self._wrapped_at:
            self.show(self.incident_id, self.events, self._now)

    def cycle_filter(self, now: datetime) -> str:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.show(self.incident_id, self.events, now)
        return self.filter
