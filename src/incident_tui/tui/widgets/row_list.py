"""A painted list of rows with one highlighted: the cursor, paging and the mouse, shared by the line-API lists.

The incident list (rows of one height) and the timeline's event list (rows as tall as their
wrapped text) paint only the lines on screen; what moves the highlight is the same for both
and lives here. A subclass says how many rows it has, where row ``i`` lies in its lines and
which row holds line ``y``; it keeps its own ``watch_highlighted`` and ``action_select``.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, clamp
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class RowList(ScrollView):
    # OptionList's look, under the component classes both lists paint their rows with.
    DEFAULT_CSS = """
    RowList {
        height: auto;
        max-height: 100%;
        color: $foreground;
        overflow-x: hidden;
        border: tall $border-blurred;
        padding: 0 1;
        background: $surface;
        & > .row-list--row-highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            border: tall $border;
            background-tint: $foreground 5%;
            & > .row-list--row-highlighted {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .row-list--row-hover {
            background: $block-hover-background;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-list--row",
        "row-list--row-highlighted",
        "row-list--row-hover",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("pagedown", "page_down", "Page Down", show=False),
        Binding("pageup", "page_up", "Page Up", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    # Repainted by hand: a cursor move redraws the rows it touches, not the whole list.
    highlighted: reactive[int | None] = reactive(None, repaint=False)
    _hover: reactive[int | None] = reactive(None, repaint=False)

    # --- what a subclass says --------------------------------------------------------

    def row_count(self) -> int:
        raise NotImplementedError

    def row_span(self, index: int) -> tuple[int, int]:
        """(first line, height) of row ``index``, which is below :meth:`row_count`."""
        raise NotImplementedError

    def row_at(self, y: int) -> int:
        """The row holding line ``y`` of the list (0 <= y < the line count)."""
        raise NotImplementedError

    # --- scrolling ----------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolled by a few lines: the lines still on screen keep what they painted.

        Textual repaints every line of a scroll view that scrolls (ScrollView.watch_scroll_y
        marks them all dirty), though all but the lines that came into view show what they
        showed, one place up or down; a cursor stepping past the edge of the incident list paid
        for a whole screen of rows (~1.5 ms of ~17). Here the styled lines Textual keeps for
        this widget (its StylesCache, by line of the widget) move with the scroll, so only the
        lines that came into view and those already due for a repaint (the old and new cursor
        rows) are rendered again; the compositor repaints the widget's region as before, from
        the same strips, which also keeps its divide caches warm.
        """
        shift = round(new_value) - round(old_value)
        moved = self._moved_lines(shift) if shift else None
        super().watch_scroll_y(old_value, new_value)  # marks every line for a repaint
        if moved:
            cache = self._styles_cache
            cache._cache.update(moved)
            cache._dirty_lines.difference_update(moved)

    def _moved_lines(self, shift: int) -> dict[int, Strip] | None:
        """The styled content lines that stay on screen, keyed by the line they move to."""
        cache = self._styles_cache
        lines, dirty = cache._cache, cache._dirty_lines
        if not lines or abs(shift) >= self.content_region.height:
            return None
        top = self.content_region.y - self.region.y
        end = top + self.content_region.height
        moved = {}
        for y in range(max(top, top - shift), min(end, end - shift)):
            source = y + shift
            if source not in dirty and (strip := lines.get(source)) is not None:
                moved[y] = strip
        return moved

    # --- the highlight ----------------------------------------------------------------

    def _refresh_row(self, index: int | None) -> None:
        if index is not None and index < self.row_count():
            self.refresh_lines(*self.row_span(index))

    def watch__hover(self, old: int | None, new: int | None) -> None:
        for index in (old, new):
            self._refresh_row(index)

    def scroll_to_highlight(self) -> None:
        index = self.highlighted
        if index is None or not self.is_mounted or index >= self.row_count():
            return
        start, height = self.row_span(index)
        top, window = self.scroll_offset.y, self.scrollable_content_region.height
        if top <= start and start + height <= top + window:
            return  # on screen already (most cursor moves): nothing to scroll or work out
        self.scroll_to_region(Region(0, start, self.scrollable_content_region.width, height),
                              force=True, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        if count := self.row_count():
            self.highlighted = 0 if self.highlighted is None else (self.highlighted + 1) % count

    def action_cursor_up(self) -> None:
        if count := self.row_count():
            self.highlighted = count - 1 if self.highlighted is None else (self.highlighted - 1) % count

    def action_first(self) -> None:
        if self.row_count():
            self.highlighted = 0

    def action_last(self) -> None:
        if count := self.row_count():
            self.highlighted = count - 1

    def _move_page(self, direction: int) -> None:
        count = self.row_count()
        if not count:
            return
        last_start, last_height = self.row_span(count - 1)
        start, _ = self.row_span(min(self.highlighted or 0, count - 1))
        y = clamp(start + direction * self.scrollable_content_region.height, 0, last_start + last_height - 1)
        self.highlighted = self.row_at(y)

    def action_page_down(self) -> None:
        if self.highlighted is None:
            self.action_last()
        else:
            self._move_page(1)

    def action_page_up(self) -> None:
        if self.highlighted is None:
            self.action_first()
        else:
            self._move_page(-1)

    def action_select(self) -> None:
        raise NotImplementedError

    # --- the mouse -----------------------------------------------------------------

    async def _on_click(self, event: events.Click) -> None:
        index = event.style.meta.get("row")
        if index is not None and index < self.row_count():
            self.highlighted = index
            self.action_select()

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover = event.style.meta.get("row")

    def _on_leave(self, _: events.Leave) -> None:
        self._hover = None
