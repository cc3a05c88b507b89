"""The scrolling body of the diff pane: aligned rows, rendered only where visible.

A ScrollView with render_line and an LRU cache of rendered line bodies (the toolong
pattern): a 1 MB prompt lays out in one pass over its rows and each frame renders only
the lines on screen. Layout is a flat list of visual lines; each names a row (and a
wrap part), a fold, or a message, so scrolling is an index into it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from incident_tui.domain.diff import (
    EQUAL,
    REPLACE,
    DiffResult,
    DiffRow,
    fold_rows,
    split_eol,
    visible,
    wrap_points,
)

NARROW_WIDTH = 100  # below this many terminal columns, "auto" layout is unified
CONTEXT = 3
# A prompt whose non-blank lines are this often wider than the text column is prose:
# it starts wrapped, since scrolling sideways through paragraphs hides most of them.
PROSE_SHARE = 0.4

# Visual line kinds.
SPLIT, FOLD, OLD, NEW, BOTH, MESSAGE = range(6)
LEFT, RIGHT = 0, 1

_EOL_MARK = {"\n": "↵", "\r\n": "␍↵", "": "∅"}
_WS_RUN = re.compile(r"[ \t]+|[^ \t]+")


def _one_cell_each(text: str) -> bool:
    return text.isascii() or all(get_character_cell_size(ch) == 1 for ch in text)


def measure_rows(result: DiffResult) -> list[tuple[int, int, bool]]:
    """Cells each side of each row takes on screen (tabs as 4, escapes spelled out), and
    whether every character of the row takes one cell (then wrap points are plain
    arithmetic; other rows are wrapped character by character, wide ones kept whole).

    Pure and slow-ish on megabytes, so the pane runs it in its worker next to the diff.
    """
    out = []
    for row in result.rows:
        left_s = visible(split_eol(row.left_text)[0]) if row.left_text is not None else ""
        right_s = visible(split_eol(row.right_text)[0]) if row.right_text is not None else ""
        out.append((cell_len(left_s), cell_len(right_s), _one_cell_each(left_s) and _one_cell_each(right_s)))
    return out


def eol_differs(row: DiffRow) -> bool:
    """A replaced line whose terminator changed (CRLF/LF, final newline): marked on screen."""
    return (
        row.kind == REPLACE
        and row.left_text is not None
        and row.right_text is not None
        and split_eol(row.left_text)[1] != split_eol(row.right_text)[1]
    )


def whitespace_changed(row: DiffRow) -> bool:
    """The row's change is (partly) whitespace: then all its whitespace is shown, both
    sides, so "two spaces became one" reads as such and not as a blank highlight."""
    if row.kind != REPLACE:
        return False
    for raw, spans in ((row.left_text, row.left_spans), (row.right_text, row.right_spans)):
        content = split_eol(raw or "")[0]
        if any(not content[a:b].strip() for a, b in spans):
            return True
    return eol_differs(row)


def _append(text: Text, chunk: str, style: Style, ws_style: Style, mark_ws: bool) -> None:
    if not chunk:
        return
    if not mark_ws:
        text.append(visible(chunk), style)
        return
    for token in _WS_RUN.findall(chunk):
        if token[0] in " \t":
            text.append(token.replace(" ", "·").replace("\t", "→   "), style + ws_style)
        else:
            text.append(visible(token), style)


def line_body(
    raw: str,
    spans: Sequence[tuple[int, int]],
    *,
    style: Style,
    word_style: Style,
    ws_style: Style,
    show_ws: bool,
    mark_eol: bool,
) -> Text:
    """One side of a row as Text: changed spans emphasised, whitespace made visible.

    A changed span made only of whitespace always shows its markers: otherwise a
    whitespace change would be an invisible highlight.
    """
    content, eol = split_eol(raw)
    text = Text(no_wrap=True, end="")
    pos = 0
    for start, end in spans:
        _append(text, content[pos:start], style, ws_style, show_ws)
        chunk = content[start:end]
        _append(text, chunk, word_style, ws_style, show_ws or not chunk.strip())
        pos = end
    _append(text, content[pos:], style, ws_style, show_ws)
    if mark_eol:
        text.append(_EOL_MARK[eol], word_style if not show_ws else style + ws_style)
    return text


def _runs(rows: Sequence[DiffRow]) -> list[tuple[int, int, bool]]:
    """Unfolded ranges: each run of unchanged rows, and each change (a run of changed
    rows), its own range, so an unfolded view still knows where changes start."""
    out: list[tuple[int, int, bool]] = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or (rows[i].kind == EQUAL) != (rows[start].kind == EQUAL):
            out.append((start, i, False))
            start = i
    return out


class DiffView(ScrollView, can_focus=True):
    """Rows of a DiffResult, side by side or unified, folded or not, wrapped or not."""

    COMPONENT_CLASSES = {
        "diff-view--lineno",
        "diff-view--lineno-current",
        "diff-view--removed",
        "diff-view--added",
        "diff-view--removed-word",
        "diff-view--added-word",
        "diff-view--filler",
        "diff-view--fold",
        "diff-view--whitespace",
        "diff-view--separator",
        "diff-view--message",
    }

    DEFAULT_CSS = """
    DiffView {
        scrollbar-gutter: stable;
        overflow: auto auto;
        & > .diff-view--lineno { color: $text-muted; }
        & > .diff-view--lineno-current { color: $accent; background: $accent 20%; text-style: bold; }
        & > .diff-view--removed { background: $error 18%; }
        & > .diff-view--added { background: $success 18%; }
        & > .diff-view--removed-word { background: $error 45%; text-style: bold strike; }
        & > .diff-view--added-word { background: $success 45%; text-style: bold underline; }
        & > .diff-view--filler { color: $text-disabled; background: $boost; }
        & > .diff-view--fold { color: $text-muted; background: $boost; text-style: italic; }
        & > .diff-view--whitespace { color: $text-disabled; }
        & > .diff-view--separator { color: $panel-lighten-2; }
        & > .diff-view--message { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.result: DiffResult | None = None
        self.layout_mode = "auto"  # auto | split | unified
        self.folded = True
        self.wrap = False
        self.show_whitespace = False
        self.current_hunk: int | None = None
        self.message = "No diff yet: select an incident, or show two versions of a prompt."
        self._widths: list[tuple[int, int, bool]] = []
        # Wrap points (cell offsets, part starts then the end) per (row, side), for the
        # text widths of the current layout.
        self._wrap_cache: dict[tuple[int, int], list[int]] = {}
        self._text_w: tuple[int, int] = (1, 1)
        self._lines: list[tuple[int, int, int]] = []
        self._hunk_lines: list[int] = []
        self._row_lines: dict[int, int] = {}
        self._num_w = 3
        self._max_text = 0
        # Bodies: one side of a row, full length (crop per frame). Lines: whole screen
        # lines, so a wheel scroll re-renders only the rows it brings in. Both small: what
        # they hold outlives a frame, and a big cache only makes garbage collection slower.
        self._body_cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(maxsize=512)
        self._line_cache: LRUCache[tuple[int, int, int, bool], Strip] = LRUCache(maxsize=256)
        self._styles: dict[str, Style] = {}
        self._laid_out_for: tuple | None = None

    # --- state in ----------------------------------------------------------------------

    def set_diff(
        self,
        result: DiffResult | None,
        widths: list[tuple[int, int, bool]] | None = None,
        message: str = "",
        *,
        auto_wrap: bool = False,
    ) -> None:
        """Show `result` (None: only `message`); widths come from measure_rows.

        With `auto_wrap`, wrapping is turned on for prose and off otherwise."""
        self.result = result
        self.message = message
        self._widths = widths if widths is not None else (measure_rows(result) if result else [])
        self.current_hunk = None
        self._body_cache.clear()
        rows = result.rows if result else []
        last = max((max(r.left_no or 0, r.right_no or 0) for r in rows), default=0)
        self._num_w = max(3, len(str(last)))
        if auto_wrap and result is not None:
            self.wrap = self.looks_like_prose()
        self.relayout(keep_position=False)
        self.scroll_to(0, 0, animate=False)

    @property
    def unified(self) -> bool:
        if self.layout_mode == "unified":
            return True
        if self.layout_mode == "split":
            return False
        return self.app.size.width < NARROW_WIDTH

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def hunk_count(self) -> int:
        return len(self.result.hunks) if self.result else 0

    @property
    def content_width(self) -> int:
        """Cells a line has on screen: the widget's width less the scrollbar's gutter."""
        return self.scrollable_content_region.width or self.size.width or 120

    def looks_like_prose(self) -> bool:
        """Most lines are wider than the text column at the current width and layout."""
        if self.result is None:
            return False
        text_w = min(self._text_widths(self.content_width))
        long = total = 0
        for left, right, _ in self._widths:
            if left or right:
                total += 1
                long += max(left, right) > text_w
        return total > 0 and long >= PROSE_SHARE * total

    def _text_widths(self, width: int) -> tuple[int, int]:
        if self.unified:
            w = max(1, width - (2 * self._num_w + 4))
            return w, w
        left = (width - 1) // 2
        right = width - 1 - left
        gutter = self._num_w + 3
        return max(1, left - gutter), max(1, right - gutter)

    def relayout(self, keep_position: bool = True) -> None:
        """Rebuild the visual lines after a change of diff, mode or width."""
        anchor = self._top_row() if keep_position else None
        width = self.content_width
        self._laid_out_for = (width, self.unified, self.folded, self.wrap, id(self.result))
        self._text_w = self._text_widths(width)
        self._wrap_cache.clear()
        lines: list[tuple[int, int, int]] = []
        hunk_lines: list[int] = []
        row_lines: dict[int, int] = {}
        result = self.result
        if result is None or not result.rows:
            lines.append((MESSAGE, 0, 0))
        else:
            rows = result.rows
            left_w, right_w = self._text_widths(width)
            unified = self.unified
            ranges = fold_rows(rows, CONTEXT) if self.folded else _runs(rows)
            if result.identical and self.message:
                lines.append((MESSAGE, 0, 0))
            for start, end, folded in ranges:
                if folded:
                    lines.append((FOLD, start, end))
                    continue
                hunk = rows[start].hunk
                if hunk is not None:
                    # fold_rows gives each run of changed rows, i.e. each hunk, its own range.
                    hunk_lines.append(len(lines))
                if not unified:
                    for i in range(start, end):
                        row_lines[i] = len(lines)
                        for part in range(self._height(i, left_w, right_w)):
                            lines.append((SPLIT, i, part))
                elif hunk is None:
                    for i in range(start, end):
                        row_lines[i] = len(lines)
                        for part in range(self._height(i, left_w, 0)):
                            lines.append((BOTH, i, part))
                else:
                    # A change reads as its old lines, then its new lines.
                    for i in range(start, end):
                        row_lines.setdefault(i, len(lines))
                        if rows[i].left_text is not None:
                            for part in range(self._height(i, left_w, 0)):
                                lines.append((OLD, i, part))
                    for i in range(start, end):
                        row_lines.setdefault(i, len(lines))
                        if rows[i].right_text is not None:
                            for part in range(self._height(i, 0, right_w)):
                                lines.append((NEW, i, part))
        self._lines, self._hunk_lines, self._row_lines = lines, hunk_lines, row_lines
        longest = 0
        for i, (lw, rw, _) in enumerate(self._widths):
            # An end-of-line marker (up to 2 cells) must be reachable by scrolling too.
            marked = self.show_whitespace or (result is not None and eol_differs(result.rows[i]))
            longest = max(longest, lw + 2 * marked, rw + 2 * marked)
        text_w = min(self._text_widths(width))
        self._max_text = 0 if self.wrap else max(0, longest - text_w)
        self.virtual_size = Size(width + self._max_text, len(lines))
        self._line_cache.clear()
        if anchor is not None:
            self.scroll_to(y=self._line_of_row(anchor), animate=False)
        self.refresh()

    def _height(self, i: int, left_w: int, right_w: int) -> int:
        if not self.wrap:
            return 1
        parts = 1
        if left_w:
            parts = max(parts, len(self._wrap(i, LEFT)) - 1)
        if right_w:
            parts = max(parts, len(self._wrap(i, RIGHT)) - 1)
        return parts

    def _wrap(self, i: int, side: int) -> list[int]:
        """Cell offsets where the wrapped parts of one side of row i start, then its end."""
        key = (i, side)
        points = self._wrap_cache.get(key)
        if points is None:
            row = self.result.rows[i]  # type: ignore[union-attr]
            raw = row.left_text if side == LEFT else row.right_text
            text_w = self._text_w[side]
            if raw is None:
                points = [0, 0]
            else:
                # Whitespace markers take the cells of what they mark, so the wrap points
                # are those of the visible text and its end-of-line mark.
                content, eol = split_eol(raw)
                mark = _EOL_MARK[eol] if self.show_whitespace or eol_differs(row) else ""
                if self._widths[i][2]:
                    # One cell per character: parts are text_w cells each.
                    total = self._widths[i][side] + len(mark)
                    points = [*range(0, total, text_w), total] if total else [0, 0]
                else:
                    plain = visible(content) + mark
                    points = [cell for _, cell in wrap_points(plain, text_w, get_character_cell_size)]
            self._wrap_cache[key] = points
        return points

    def _top_row(self) -> int | None:
        y = int(self.scroll_offset.y)
        if not self._lines or y >= len(self._lines):
            return None
        kind, a, _ = self._lines[y]
        return None if kind == MESSAGE else a

    def _line_of_row(self, row: int) -> int:
        if row in self._row_lines:
            return self._row_lines[row]
        # The row is folded away now: the fold that holds it.
        for y, (kind, a, b) in enumerate(self._lines):
            if kind == FOLD and a <= row < b:
                return y
        return 0

    def on_resize(self) -> None:
        width = self.content_width
        if self._laid_out_for is None or self._laid_out_for[:2] != (width, self.unified):
            self.relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        self._body_cache.clear()
        self._line_cache.clear()

    # --- navigation --------------------------------------------------------------------

    def hunk_line(self, index: int) -> int:
        return self._hunk_lines[index] if index < len(self._hunk_lines) else 0

    def goto_hunk(self, index: int) -> None:
        """Make change `index` current and scroll it near the top, context above it."""
        self.current_hunk = index
        self.scroll_to(y=max(0, self.hunk_line(index) - CONTEXT - 1), animate=False)
        self.refresh()

    def step_hunk(self, direction: int) -> int | None:
        """Next (+1) or previous (-1) change from the current one, or from the screen when
        the current one is scrolled away. Returns the new index, None at either end."""
        if not self._hunk_lines:
            return None
        top = int(self.scroll_offset.y)
        bottom = top + self.scrollable_content_region.height
        current = self.current_hunk
        if current is None or not top <= self.hunk_line(current) < bottom:
            # Navigate relative to what is on screen, not to a change scrolled far away.
            anchor = top + CONTEXT + 1
            if direction > 0:
                target = next((i for i, y in enumerate(self._hunk_lines) if y >= anchor), None)
                if current is None and top == 0 and self._hunk_lines:
                    target = 0
            else:
                target = next((i for i in range(len(self._hunk_lines) - 1, -1, -1) if self._hunk_lines[i] < anchor), None)
        else:
            target = current + direction
            if not 0 <= target < len(self._hunk_lines):
                target = None
        if target is not None:
            self.goto_hunk(target)
        return target

    # --- rendering ---------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"diff-view--{name}")
            self._styles[name] = style
        return style

    def _body(self, i: int, side: int) -> Strip:
        key = (i, side, self.show_whitespace)
        strip = self._body_cache.get(key)
        if strip is None:
            assert self.result is not None
            row = self.result.rows[i]
            raw = row.left_text if side == LEFT else row.right_text
            spans = row.left_spans if side == LEFT else row.right_spans
            line_style, word_style = self._line_styles(row, side)
            text = line_body(
                raw or "",
                spans,
                style=line_style,
                word_style=word_style,
                ws_style=self._style("whitespace"),
                show_ws=self.show_whitespace or whitespace_changed(row),
                mark_eol=self.show_whitespace or eol_differs(row),
            )
            strip = Strip(text.render(self.app.console), text.cell_len)
            self._body_cache[key] = strip
        return strip

    def _line_styles(self, row: DiffRow, side: int) -> tuple[Style, Style]:
        if row.kind == EQUAL:
            return Style(), Style()
        if side == LEFT:
            return self._style("removed"), self._style("removed") + self._style("removed-word")
        return self._style("added"), self._style("added") + self._style("added-word")

    def _gutter(
        self, numbers: Sequence[int | None], marker: str, row: DiffRow, side: int, part: int, more: bool = True
    ) -> list[Segment]:
        current = row.hunk is not None and row.hunk == self.current_hunk
        number_style = self._style("lineno-current" if current else "lineno")
        w = self._num_w
        if part:
            label = " " * ((w + 1) * len(numbers))
            # A wrapped line's continuation says so in the marker column; past the end
            # of a side that wraps into fewer parts than the other, the column is empty.
            marker = "↪" if more else " "
        else:
            label = "".join(f"{n:>{w}} " if n is not None else " " * (w + 1) for n in numbers)
        line_style = self._line_styles(row, side)[0]
        return [Segment(label, number_style), Segment(f"{marker} ", line_style + Style(bold=True))]

    def _has_part(self, i: int, side: int, part: int) -> bool:
        return not self.wrap or part < len(self._wrap(i, side)) - 1

    def _text_cell(self, i: int, side: int, part: int, text_w: int) -> Strip:
        row = self.result.rows[i]  # type: ignore[union-attr]
        line_style = self._line_styles(row, side)[0]
        if not self.wrap:
            start = int(self.scroll_offset.x)
            return self._body(i, side).crop_extend(start, start + text_w, line_style)
        points = self._wrap(i, side)
        if part >= len(points) - 1:
            return Strip.blank(text_w, line_style)
        # Parts end on character boundaries: a wide character is never cut in two.
        return self._body(i, side).crop(points[part], points[part + 1]).extend_cell_length(text_w, line_style)

    def _split_cell(self, i: int, side: int, part: int, col_w: int) -> Strip:
        row = self.result.rows[i]  # type: ignore[union-attr]
        raw = row.left_text if side == LEFT else row.right_text
        if raw is None:
            return Strip.blank(col_w, self._style("filler"))
        text_w = max(1, col_w - self._num_w - 3)
        number = row.left_no if side == LEFT else row.right_no
        marker = " " if row.kind == EQUAL else ("-" if side == LEFT else "+")
        gutter = Strip(self._gutter([number], marker, row, side, part, self._has_part(i, side, part)))
        return Strip.join([gutter, self._text_cell(i, side, part, text_w)]).crop_extend(0, col_w, None)

    def render_line(self, y: int) -> Strip:
        width = self.content_width
        index = int(self.scroll_offset.y) + y
        if index >= len(self._lines):
            return Strip.blank(width)
        kind, a, b = self._lines[index]
        if kind == MESSAGE:
            return self._centred(self.message or "No differences.", "message", width)
        if kind == FOLD:
            n = b - a
            return self._centred(f"⋯ {n} unchanged line{'s' if n != 1 else ''} · o to show ⋯", "fold", width)
        assert self.result is not None
        row = self.result.rows[a]
        key = (index, int(self.scroll_offset.x), width, row.hunk is not None and row.hunk == self.current_hunk)
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._render_row_line(kind, a, b, row, width)
            self._line_cache[key] = strip
        return strip

    def _render_row_line(self, kind: int, a: int, b: int, row: DiffRow, width: int) -> Strip:
        if kind == SPLIT:
            left_w = (width - 1) // 2
            current = row.hunk is not None and row.hunk == self.current_hunk
            sep = Strip([Segment("┃" if current else "│", self._style("separator"))])
            return Strip.join(
                [self._split_cell(a, LEFT, b, left_w), sep, self._split_cell(a, RIGHT, b, width - 1 - left_w)]
            )
        text_w = max(1, width - (2 * self._num_w + 4))
        if kind == BOTH:
            gutter = self._gutter([row.left_no, row.right_no], " ", row, LEFT, b, self._has_part(a, LEFT, b))
            return Strip.join([Strip(gutter), self._text_cell(a, LEFT, b, text_w)])
        side = LEFT if kind == OLD else RIGHT
        numbers = [row.left_no, None] if side == LEFT else [None, row.right_no]
        gutter = self._gutter(numbers, "-" if side == LEFT else "+", row, side, b, self._has_part(a, side, b))
        return Strip.join([Strip(gutter), self._text_cell(a, side, b, text_w)])

    def _centred(self, message: str, style_name: str, width: int) -> Strip:
        style = self._style(style_name)
        text = Text(visible(message), style=style, end="")
        pad = max(0, (width - text.cell_len) // 2)
        return Strip([Segment(" " * pad, style), *text.render(self.app.console)]).crop_extend(0, width, style)
