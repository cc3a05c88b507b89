"""Pane 1: the active incidents, worst first, with live elapsed clocks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.style import Style as RichStyle
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size, Spacing, clamp
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.visual import Padding, visualize

from incident_tui.domain.models import Incident
from incident_tui.tui.render import elapsed_words, incident_row
from incident_tui.tui.widgets.line_runs import ellipsized, paint_runs, paints_by_runs, text_runs
from incident_tui.tui.widgets.row_list import RowList


class IncidentList(RowList, can_focus=True):
    """One row per incident, drawn only while on screen (Textual's line API, as its Log does).

    A list of thousands of incidents costs what its visible rows cost: nothing is built or
    measured for a row until it is painted, and a clock tick re-renders only what is shown.
    Every row has the same height (two lines; one when compact), so the row under a line is a
    division, not a table. Each line of a row is cut with an ellipsis when it is painted, at the
    width the list has then, so a long title never pushes a row to three lines and the cut does
    not depend on whether layout (a scrollbar, a modal) happened before or after the rows were set.
    The keys and the look are an OptionList's (up/down wrap round, page keys move by a screen).
    """

    # The look is RowList's; a row never wraps, it is cut with an ellipsis.
    DEFAULT_CSS = """
    IncidentList {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        /* One free column before the border, narrow (Textual's compact style) or wide. */
        & > .row-list--row {
            padding: 0 1 0 0;
        }
        &.-textual-compact {
            border: none !important;
            padding: 0;
        }
    }
    """

    # The cursor keys are RowList's; the incident list adds vim's j and k.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    # Keys that only move the cursor (the app paints the newly selected incident once they rest).
    CURSOR_KEYS: ClassVar[frozenset[str]] = frozenset({"down", "j", "up", "k", "home", "end", "pagedown", "pageup"})


    @dataclass
    class Selected(Message):
        incident_id: str | None

    def __init__(self, follow: Callable[[str | None], None] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        # Told of a new selection in the same frame as the cursor move (the app's panes follow it);
        # without it, a Selected message bubbles up, which paints the cursor and the panes apart.
        self.follow = follow
        self._replacing = False  # inside set_incidents: the caller is mid-update, so it hears later
        self.incidents: list[Incident] = []
        self.compact = False
        self._now: datetime | None = None
        self._current: str | None = None
        self._ids: dict[str, int] = {}
        # Rows built for this clock reading (cleared when the data or the clock changes) and
        # their painted lines (kept while the row's words, style and width stay the same).
        self._texts: dict[int, Text] = {}
        self._strips: LRUCache[tuple, list[Strip]] = LRUCache(512)
        self._run_styles: dict[tuple[Style, str], RichStyle] = {}

    # --- data in -------------------------------------------------------------------

    @property
    def row_height(self) -> int:
        return 1 if self.compact else 2

    def on_mount(self) -> None:
        # The elapsed clocks move once a second; the timer is this widget's and ends with it.
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        clock = getattr(self.app, "clock", None)
        if clock is not None and self.incidents:
            self.show(self.incidents, clock(), compact=self.compact)

    @property
    def current_id(self) -> str | None:
        index = self.highlighted
        return self.incidents[index].id if index is not None and index < len(self.incidents) else None

    @property
    def current_incident(self) -> Incident | None:
        index = self.highlighted
        return self.incidents[index] if index is not None and index < len(self.incidents) else None

    def show(self, incidents: list[Incident], now: datetime, *, compact: bool) -> None:
        """New data or a clock tick: only the rows on screen are built again, when painted."""
        keep = self.current_id
        same = [i.id for i in incidents] == [i.id for i in self.incidents] and compact == self.compact
        shown, shown_at = self.incidents, self._now
        self.incidents = incidents
        self._now = now
        built, self._texts = self._texts, {}
        if same:
            # Clock ticks: of the rows on screen, only those whose words changed are repainted (most
            # stay put for a minute); the others are built again when they scroll into view. A row
            # of the same incident whose clock reads the same is kept as it is, not built again.
            height = self.row_height
            top = self.scroll_offset.y // height
            for index in range(top, min(top + self.size.height // height + 2, len(incidents))):
                before = built.get(index)
                if before is None:
                    continue
                incident = incidents[index]
                if (incident is shown[index] and shown_at is not None
                        and elapsed_words(incident, now) == elapsed_words(incident, shown_at)):
                    self._texts[index] = before
                    continue
                after = self.row(index)
                if after.plain != before.plain or after.spans != before.spans:
                    self._refresh_row(index)
            return
        self.compact = compact
        self.set_class(compact, "-textual-compact")
        self._ids = {incident.id: index for index, incident in enumerate(incidents)}
        self._update_virtual_size()
        self.refresh()
        self._replacing = True
        try:
            if not incidents:
                self.highlighted = None
                self._announce(None)
                return
            self.highlighted = self._ids.get(keep, 0) if keep is not None else 0
            self.scroll_to_highlight()
            self._announce(self.current_id)
        finally:
            self._replacing = False

    def row(self, index: int) -> Text:
        """The row of the incident at ``index`` as it reads now (built once per clock reading)."""
        text = self._texts.get(index)
        if text is None:
            assert self._now is not None
            text = self._texts[index] = incident_row(self.incidents[index], self._now, compact=self.compact)
        return text

    def select_id(self, incident_id: str) -> None:
        index = self._ids.get(incident_id)
        if index is not None:
            self.highlighted = index

    def _announce(self, incident_id: str | None) -> None:
        if incident_id != self._current:
            self._current = incident_id
            if self.follow is not None and not self._replacing:
                self.follow(incident_id)
            else:
                self.post_message(self.Selected(incident_id))

    # --- the cursor ----------------------------------------------------------------

    def validate_highlighted(self, highlighted: int | None) -> int | None:
        if highlighted is None or not self.incidents:
            return None
        return clamp(highlighted, 0, len(self.incidents) - 1)

    def watch_highlighted(self, old: int | None, new: int | None) -> None:
        for index in (old, new):
            if index is not None:
                self._refresh_row(index)
        if new is not None:
            self.scroll_to_highlight()
            self._announce(self.current_id)

    def row_count(self) -> int:
        return len(self.incidents)

    def row_span(self, index: int) -> tuple[int, int]:
        return index * self.row_height, self.row_height

    def row_at(self, y: int) -> int:
        return y // self.row_height

    def action_select(self) -> None:
        if self.highlighted is None:
            return
        self._announce(self.current_id)
        self.call_later(self.app.run_action, "pane('timeline')")

    # --- painting ------------------------------------------------------------------

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width
        self.virtual_size = Size(width, len(self.incidents) * self.row_height)

    def notify_style_update(self) -> None:
        self._strips.clear()
        self._run_styles.clear()
        super().notify_style_update()

    def _on_resize(self, _: events.Resize) -> None:
        self._update_virtual_size()
        self.scroll_to_highlight()

    def on_show(self) -> None:
        self.scroll_to_highlight()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width  # rows are cut to the width they get; never measured one by one

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.incidents) * self.row_height

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index, offset = divmod(self.scroll_offset.y + y, self.row_height)
        if index >= len(self.incidents) or self._now is None:
            return Strip.blank(width, self.get_visual_style("row-list--row").rich_style)
        if index == self.highlighted:
            style = self.get_visual_style("row-list--row", "row-list--row-highlighted")
        elif index == self._hover:
            style = self.get_visual_style("row-list--row", "row-list--row-hover")
        else:
            style = self.get_visual_style("row-list--row")
        strips = self._row_strips(index, style, width)
        return strips[offset] if offset < len(strips) else Strip.blank(width, style.rich_style)

    def _painted_by_runs(self, text: Text, style: Style, width: int, padding: Spacing) -> list[Strip] | None:
        """The row's lines painted from their runs (line_runs.py), a long line cut with an ellipsis
        as the list's CSS says: what Content and the Padding visual make of them, without building
        either (~0.2 ms a row)."""
        top, right, bottom, left = padding
        inner = width - left - right
        if top or bottom or inner <= 0 or not paints_by_runs(self):
            return None
        cut = self.styles.text_wrap == "nowrap" and self.styles.text_overflow == "ellipsis"
        strips = []
        rich = style.rich_style
        for y, line in enumerate(text.split("\n", allow_blank=True)):
            if line.cell_len > inner:
                if not cut:
                    return None  # wrapped or folded: Content's own path
                line = ellipsized(line, inner)  # what Content shows of a long title
            runs = text_runs(line)
            if runs is None:
                return None
            strip = paint_runs(self.app, style, runs, self._run_styles, y)
            strips.append(strip.crop_pad(inner, left, right, rich) if (left or right) else strip)
        return strips

    def _row_strips(self, index: int, style: Style, width: int) -> list[Strip]:
        text = self.row(index)
        key = (index, text.plain, tuple(text.spans), style, width)
        strips = self._strips.get(key)
        if strips is None:
            padding = self.get_component_styles("row-list--row").padding
            rendered = self._painted_by_runs(text, style, width, padding)
            if rendered is None:  # a line that does not fit, or that only Content paints right
                visual = visualize(self, text, markup=False)
                if padding:
                    visual = Padding(visual, padding)
                rendered = visual.to_strips(self, visual, width, None, style)
            meta = {"row": index}
            strips = [strip.extend_cell_length(width, style.rich_style).apply_meta(meta) for strip in rendered]
            self._strips[key] = strips
        return strips

