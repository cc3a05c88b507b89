"""Read a diff back from what a terminal shows and rebuild each side's lines.

Importable as `diff_screen` (tests/ is on pytest's pythonpath). Used by the Pilot tests
(screen lines from the compositor) and the tmux e2e (screen lines from capture-pane):
both hand over the text area of the diff view, scrollbar and borders already cut off.

Each screen line is a side-by-side row (two columns around a "│"/"┃" separator) or a
unified one. A column starts with a gutter: line number(s), a marker ("-", "+", " ", or
"↪" on the continuation of a wrapped line), a space. The text after the gutter is placed
at its horizontal offset: appended after the line's previous part when wrapped, at the
horizontal scroll offset when not. Only ASCII text is placed cell-exact (one character,
one cell), which is what the prompts used here hold.
"""

from __future__ import annotations

from collections import Counter

SEPARATORS = "│┃"
OLD, NEW = "old", "new"


class Canvas:
    """Text of one logical line, written piece by piece at cell offsets."""

    def __init__(self) -> None:
        self.cells: list[str | None] = []

    def put(self, x: int, text: str) -> None:
        if len(self.cells) < x + len(text):
            self.cells.extend([None] * (x + len(text) - len(self.cells)))
        for i, ch in enumerate(text):
            old = self.cells[x + i]
            if old is not None and old != ch:
                raise AssertionError(f"cell {x + i} shows {old!r} on one screen and {ch!r} on another")
            self.cells[x + i] = ch

    @property
    def end(self) -> int:
        return len(self.cells)

    def text(self) -> str:
        holes = [i for i, ch in enumerate(self.cells) if ch is None]
        if holes:
            raise AssertionError(f"cells {holes[:5]}… were never on screen")
        return "".join(self.cells).rstrip()


def separator_column(lines: list[str]) -> int:
    """Where the side-by-side separator is: the column holding one on most lines."""
    counts = Counter(i for line in lines for i, ch in enumerate(line) if ch in SEPARATORS)
    if not counts:
        raise AssertionError("no side-by-side separator on screen")
    return counts.most_common(1)[0][0]


class Reassembler:
    """Feed screen lines top to bottom (and, unwrapped, each horizontal page of them);
    `lines[(side, number)]` is then that line's text as it was shown."""

    def __init__(self, *, split: bool, num_w: int, wrapped: bool) -> None:
        self.split = split
        self.num_w = num_w
        self.wrapped = wrapped
        self.canvases: dict[tuple[str, int], Canvas] = {}
        # The logical line(s) each column's previous screen line belonged to.
        self._last: dict[int, list[tuple[str, int]]] = {}

    def feed(self, line: str, x: int = 0, separator: int | None = None) -> None:
        if "unchanged line" in line and "⋯" in line:
            self._last = {}
            return
        if self.split:
            assert separator is not None, "side by side needs the separator column"
            line = line.ljust(separator + 1)
            assert line[separator] in SEPARATORS, f"no separator at {separator}: {line!r}"
            self._column(0, line[:separator], [OLD], x)
            self._column(1, line[separator + 1 :], [NEW], x)
        else:
            self._column(0, line, [OLD, NEW], x)

    def _column(self, column: int, text: str, sides: list[str], x: int) -> None:
        w = self.num_w
        gutter = (w + 1) * len(sides) + 2
        text = text.ljust(gutter)
        fields = [text[k * (w + 1) : k * (w + 1) + w] for k in range(len(sides))]
        marker = text[gutter - 2]
        body = text[gutter:]
        if not text.strip():
            return  # filler opposite an insertion or deletion
        if marker == "↪":
            keys = self._last.get(column)
            assert keys, f"a continuation with no line before it: {text!r}"
            assert not any(f.strip() for f in fields), f"numbers on a continuation: {text!r}"
        else:
            keys = [(side, int(f)) for side, f in zip(sides, fields) if f.strip()]
            assert keys, f"no line number in {text!r}"
            self._last[column] = keys
            if self.wrapped:
                assert all(key not in self.canvases for key in keys), f"line shown twice: {keys}"
        for key in keys:
            canvas = self.canvases.setdefault(key, Canvas())
            if self.wrapped:
                canvas.put(canvas.end if marker == "↪" else 0, body)
            else:
                canvas.put(x, body)

    @property
    def lines(self) -> dict[tuple[str, int], str]:
        return {key: canvas.text() for key, canvas in self.canvases.items()}


def expected_lines(text: str, visible) -> dict[int, str]:
    """Line number → the line as the diff shows it (escapes spelled out, no terminator)."""
    out = {}
    for n, raw in enumerate(text.split("\n"), start=1):
        out[n] = visible(raw.removesuffix("\r")).rstrip()
    if text.endswith("\n"):
        out.pop(len(out))
    return out


def number_width(*texts: str) -> int:
    """Digits of the line-number gutter, as the view sizes it (at least 3)."""
    counts = [t.count("\n") + (0 if t.endswith("\n") or not t else 1) for t in texts]
    return max(3, *(len(str(n)) for n in counts))
