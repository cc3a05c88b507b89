"""preview() and short() answer printable ASCII without cleaning it, and answer it as the cleaning would."""

from __future__ import annotations

import string

import pytest

from incident_tui.domain.text import clean, neutralise
from incident_tui.tui.render import LINE_CHARS, PREVIEW_CHARS, PREVIEW_LINES, preview, short


def slow_preview(text: str) -> tuple[str, bool]:
    head = neutralise(clean(text[:PREVIEW_CHARS]))
    parts = head.split("\n", PREVIEW_LINES)
    if len(parts) > PREVIEW_LINES:
        head = "\n".join(parts[:PREVIEW_LINES])
    cut = len(text) > PREVIEW_CHARS or len(parts) > PREVIEW_LINES
    return (head.rstrip() if cut else head), cut


def slow_short(text: str) -> str:
    head = neutralise(clean(text[:LINE_CHARS], multiline=False))
    return head if len(text) <= LINE_CHARS else head[: LINE_CHARS - 1] + "…"


TEXTS = [
    "", "x", "checked eval dashboard (96)", string.printable, string.ascii_letters + string.punctuation,
    "  padded both ends  ", "trailing ", " leading", "a\tb", "one\ntwo\nthree\nfour\nfive\nsix",
    "cr\r\nlf", "\x1b[31mred\x1b[0m", "[bold]markup[/] stays words", "del\x7fchar", "bell\x07",
    "\u202egnp.exe", "zero\u200bwidth", "wide 全角 🚨", "x" * PREVIEW_CHARS, "x" * (PREVIEW_CHARS + 1),
    "y" * LINE_CHARS, "y" * (LINE_CHARS + 1), " " * 5, "line\u2028separator",
]


@pytest.mark.parametrize("text", TEXTS)
def test_preview_and_short_read_as_the_full_cleaning_reads(text):
    assert preview(text) == slow_preview(text)
    assert short(text) == slow_short(text)
