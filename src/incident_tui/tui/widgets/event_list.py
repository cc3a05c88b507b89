"""The timeline's events, drawn only while on screen (Textual's line API, like the incident list).

Moving through the incident list shows a new timeline on every selection, so what one costs is
what the keystroke costs. An OptionList built an Option, a Content and its wrapped strips for
every event of the incident; here a selection lays out the events' lines as (words, style) runs
(plain tuples: cheap to build, light on the garbage collector) and only the lines on screen
become strips, when painted. A line that fits the width (nearly all) is painted straight from
its runs with the styles the Content path would give; a line that wraps (a long or multi-line
note, hanging under the text) or holds a tab goes through Content, as the OptionList did.
The keys and the look are an OptionList's (up/down wrap round, page keys move by a screen).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.css.styles import RulesMap
from textual.geometry import Region, Size, clamp
from textual.message import Message
from textual.reactive import Reactive
from textual.strip import Strip
from textual.style import Style
from textual.visual import visualize

from incident_tui.domain.models import TimelineEvent
from incident_tui.tui.render import event_runs, hang, runs_text
from incident_tui.tui.widgets.line_runs import Runs, meta_style, run_style_on
from incident_tui.tui.widgets.row_list import RowList


class EventList(RowList, can_focus=True):
    """One row per event, one or more lines each; a new width re-wraps the rows in place."""

    # The list's box is set by the pane (1fr), not by how many lines it holds: another incident's
    # timeline repaints the list and its scrollbar without a layout of the whole screen. (A
    # scrollbar that appears or goes still asks for one: show_vertical_scrollbar does.)
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    @dataclass
    class Selected(Message):
        """Enter (or a click) on an event."""

        event_list: EventList
        index: int

        @property
        def control(self) -> EventList:
            return self.event_list

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.events: list[TimelineEvent] = []
        # Per event: its runs and hang (set by show) and, at the laid-out width, its lines: the runs
        # themselves when they fit on one line, else the wrapped Text (painted through Content).
        self._runs: list[tuple[Runs, int]] = []
        self._wrapped: dict[int, Text] = {}
        self._starts: list[int] = []  # first line of each row
        self._line_count = 0
        self._laid_out_at = -1
        self._strips: LRUCache[tuple, list[Strip]] = LRUCache(64)
        self._styles: dict[tuple[Style, str], RichStyle] = {}
        self._styled: dict[Style, dict[tuple[str, int, int], RichStyle]] = {}  # + row and offset meta
        self._paint_width = 0
        self._paint_styles: tuple[Style, Style, Style] = (Style(), Style(), Style())

    # --- data in -------------------------------------------------------------------

    def show(self, events: list[TimelineEvent], now: datetime, *, with_date: bool, highlighted: int | None) -> None:
        """Show these events (already filtered), the cursor on ``highlighted``."""
        self.events = events
        runs = []
        for event in events:
            parts, indent = event_runs(event, now, with_date=with_date)
            runs.append((tuple(parts), indent))
        self._runs = runs
        self._laid_out_at = -1
        self._lay_out()
        self.refresh()
        self.set_reactive(EventList.highlighted, self.validate_highlighted(highlighted))
        self.scroll_to_highlight()

    def _lay_out(self) -> None:
        width = self.scrollable_content_region.width
        if width == self._laid_out_at:
            return
        self._laid_out_at = width
        wrap = width - 1  # rows are wrapped one cell short of the width, as the timeline always has been
        self._wrapped = {}
        if width <= 0:  # not laid out yet: one line a row until the list has its width
            self._starts, self._line_count = list(range(len(self._runs))), len(self._runs)
            return
        starts = []
        line = 0
        for index, (runs, indent) in enumerate(self._runs):
            starts.append(line)
            plain = "".join(words for words, _ in runs)
            if "\n" not in plain and "\t" not in plain and len(plain) <= wrap and cell_len(plain) <= wrap:
                line += 1
                continue
            text = self._wrapped[index] = hang(runs_text(list(runs)), wrap, indent)
            line += visualize(self, text, markup=False).get_height(cast(RulesMap, self.styles), width)
        self._starts = starts
        self._line_count = line
        size = Size(width, line)
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    def row_lines(self, index: int) -> list[str]:
        """The lines of the event at ``index`` as they read at the laid-out width (for tests and copy)."""
        self._lay_out()
        text = self._wrapped.get(index)
        if text is None:
            return ["".join(words for words, _ in self._runs[index][0])]
        width = self.scrollable_content_region.width
        return [strip.text.rstrip() for strip in self._row_strips(index, self.get_visual_style("row-list--row"), width)]

    def row_text(self, index: int) -> str:
        """The event at ``index`` as painted, its lines joined by line breaks."""
        return "\n".join(self.row_lines(index))

    @property
    def highlighted_event(self) -> TimelineEvent | None:
        index = self.highlighted
        return self.events[index] if index is not None and index < len(self.events) else None

    # --- the cursor ----------------------------------------------------------------

    def validate_highlighted(self, highlighted: int | None) -> int | None:
        if highlighted is None or not self.events:
            return None
        return clamp(highlighted, 0, len(self.events) - 1)

    def watch_highlighted(self, old: int | None, new: int | None) -> None:
        for index in (old, new):
            self._refresh_row(index)
        if new is not None:
            self.scroll_to_highlight()

    def _row_end(self, index: int) -> int:
        return self._starts[index + 1] if index + 1 < len(self._starts) else self._line_count

    def row_count(self) -> int:
        return len(self._starts)

    def row_span(self, index: int) -> tuple[int, int]:
        start = self._starts[index]
        return start, self._row_end(index) - start

    def row_at(self, y: int) -> int:
        return bisect_right(self._starts, y) - 1

    def action_select(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Selected(self, self.highlighted))

    # --- painting ------------------------------------------------------------------

    def notify_style_update(self) -> None:
        self._strips.clear()
        self._styles.clear()
        self._styled.clear()
        super().notify_style_update()

    def _on_resize(self, _: events.Resize) -> None:
        if self.scrollable_content_region.width != self._laid_out_at:
            self._lay_out()
            self.refresh()
        self.scroll_to_highlight()

    def on_show(self) -> None:
        self.scroll_to_highlight()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width  # rows are wrapped to the width they get; never measured one by one

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._line_count

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every line of this paint shares, looked up once rather than per line.
        self._lay_out()  # a new width (the scrollbar came or went) before the resize arrived
        self._paint_width = self.scrollable_content_region.width
        self._paint_styles = (
            self.get_visual_style("row-list--row"),
            self.get_visual_style("row-list--row", "row-list--row-highlighted"),
            self.get_visual_style("row-list--row", "row-list--row-hover"),
        )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._paint_width
        plain, highlighted, hover = self._paint_styles
        line = self.scroll_offset.y + y
        if line >= self._line_count:
            return Strip.blank(width, plain.rich_style)
        index = bisect_right(self._starts, line) - 1
        style = highlighted if index == self.highlighted else hover if index == self._hover else plain
        strips = self._row_strips(index, style, width)
        offset = line - self._starts[index]
        return strips[offset] if offset < len(strips) else Strip.blank(width, style.rich_style)

    def _row_strips(self, index: int, style: Style, width: int) -> list[Strip]:
        runs = self._runs[index][0]
        key = (index, runs, style, width)
        strips = self._strips.get(key)
        if strips is None:
            text = self._wrapped.get(index)
            strips = self._strips[key] = (self._paint_runs(index, runs, style, width) if text is None
                                          else self._paint_text(index, text, style, width))
        return strips

    def _paint_runs(self, index: int, runs: Runs, style: Style, width: int) -> list[Strip]:
        # What Content.from_rich_text(...).render_strips, then the OptionList's padding and meta, make
        # of a line that fits, without building them: a segment per styled run and per stretch of
        # unstyled words between them, each in the base style with its own on top, and its offset
        # in the line (text selection's meta, which also keeps neighbouring segments apart).
        styled = self._styled.get(style)
        if styled is None:
            styled = self._styled[style] = {}
        elif len(styled) > 8192:
            styled.clear()
        segments = []
        pending = ""
        x = 0
        for words, run_style in runs:
            if not run_style:
                pending += words
                continue
            if pending:
                rich = styled.get(("", index, x)) or self._styled_at(styled, style, "", index, x)
                segments.append(Segment(pending, rich))
                x += len(pending)
                pending = ""
            if words:
                rich = styled.get((run_style, index, x)) or self._styled_at(styled, style, run_style, index, x)
                segments.append(Segment(words, rich))
                x += len(words)
        if pending:
            rich = styled.get(("", index, x)) or self._styled_at(styled, style, "", index, x)
            segments.append(Segment(pending, rich))
        used = sum(cell_len(words) for words, _ in runs)
        if used < width:
            segments.append(Segment(" " * (width - used), style.rich_style + RichStyle.from_meta({"row": index})))
        return [Strip(segments, max(used, width))]

    def _styled_at(self, styled: dict, base: Style, run_style: str, index: int, x: int) -> RichStyle:
        # A run's style on this base, with its row and offset: the same few recur from incident to incident.
        rich = styled[run_style, index, x] = self._run_style(base, run_style) + meta_style(x, row=index)
        return rich

    def _run_style(self, base: Style, run_style: str) -> RichStyle:
        key = (base, run_style)
        rich = self._styles.get(key)
        if rich is None:
            rich = self._styles[key] = run_style_on(self.app, base, run_style)
        return rich

    def _paint_text(self, index: int, text: Text, style: Style, width: int) -> list[Strip]:
        visual = visualize(self, text, markup=False)
        meta = {"row": index}
        return [strip.extend_cell_length(width, style.rich_style).apply_meta(meta)
                for strip in visual.to_strips(self, visual, width, None, style)]
