"""Pane 2: the selected incident's timeline, with the note line at its foot."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from rich.cells import cell_len
from rich.style import Style as RichStyle
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget
from textual.widgets import Input

from incident_tui.domain.models import TimelineEvent
from incident_tui.tui.render import runs_text, spans_days
from incident_tui.tui.widgets.event_list import EventList
from incident_tui.tui.widgets.line_runs import paint_runs

FILTERS = ("all", "starred", "manual")


class RunsLine(Widget):
    """One line of (words, style) runs, repainted on every selection (the timeline's filter line).

    Painted as a Static would paint the same Text, but a line that fits is made straight from its
    runs (as the event list paints its rows): a Static builds a Content, wraps it and renders it for
    each new label (~0.2 ms a selection). A line that does not fit goes through Static's own path.
    """

    DEFAULT_CSS = "RunsLine { height: 1; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs: tuple[tuple[str, str], ...] = ()
        self._styles: dict[tuple[Style, str], RichStyle] = {}

    def show(self, runs: tuple[tuple[str, str], ...]) -> None:
        if runs != self.runs:
            self.runs = runs
            self.refresh()

    @property
    def text(self) -> Text:
        return runs_text(list(self.runs))

    def render(self) -> Text:
        return self.text

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        plain = "".join(words for words, _ in self.runs)
        if y or cell_len(plain) > self.size.width or "\n" in plain or "\t" in plain:
            return super().render_line(y)  # below the line, or wrapped: Static's own path
        return paint_runs(self.app, self.visual_style, self.runs, self._styles)  # padded by Textual, as a Static's line


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
        self._title_only = False

    def compose(self) -> ComposeResult:
        yield RunsLine(id="timeline-filter")
        yield EventList(id="timeline-events")
        yield NoteInput(placeholder="note ▸ n to write · 14:32 or -5m first backdates · enter stamps", id="note")

    @property
    def event_list(self) -> EventList:
        return self.query_one("#timeline-events", EventList)

    @property
    def selected_event(self) -> TimelineEvent | None:
        return self.event_list.highlighted_event

    def visible_events(self) -> list[TimelineEvent]:
        if self.filter == "starred":
            return [e for e in self.events if e.starred]
        if self.filter == "manual":
            return [e for e in self.events if e.kind.manual]
        return self.events

    def show(self, incident_id: str | None, events: list[TimelineEvent], now: datetime) -> None:
        """Keep the cursor on the same event; follow the tail when it was on the last line."""
        event_list = self.event_list
        before = event_list.highlighted_event
        keep = before.doc_id if before is not None else None
        at_end = event_list.highlighted is None or event_list.highlighted >= len(event_list.events) - 1
        self._now = now
        new_incident = incident_id != self.incident_id
        self.incident_id = incident_id
        self.events = events
        shown = self.visible_events()
        highlighted = None
        if shown:
            ids = [e.doc_id for e in shown]
            highlighted = len(shown) - 1 if (new_incident or at_end or keep not in ids) else ids.index(keep)
        event_list.show(shown, now, with_date=spans_days(events, now), highlighted=highlighted)
        starred = sum(1 for e in events if e.starred)
        self.query_one("#timeline-filter", RunsLine).show(
            ((f"filter: {self.filter}", "bold"), (f" (f) · {len(shown)} of {len(events)} events · {starred} starred", "dim")))

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

    def on_event_list_selected(self, message: EventList.Selected) -> None:
        message.stop()
        self.action_view_event()

    def cycle_filter(self, now: datetime) -> str:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.show(self.incident_id, self.events, now)
        return self.filter
