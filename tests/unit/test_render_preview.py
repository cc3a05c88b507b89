"""preview() and short() answer printable ASCII without cleaning it, and answer it as the cleaning would."""

from __future__ import annotations

import string

import pytest

from incident_tui.tui.render import LINE_CHARS, PREVIEW_CHARS, cleaned_preview, cleaned_short, preview, short


TEXTS = [
    "", "x", "checked eval dashboard (96)", string.printable, string.ascii_letters + string.punctuation,
    "  padded both ends  ", "trailing ", " leading", "a\tb", "one\ntwo\nthree\nfour\nfive\nsix",
    "cr\r\nlf", "\x1b[31mred\x1b[0m", "[bold]markup[/] stays words", "del\x7fchar", "bell\x07",
    "\u202egnp.exe", "zero\u200bwidth", "wide 全角 🚨", "x" * PREVIEW_CHARS, "x" * (PREVIEW_CHARS + 1),
    "y" * LINE_CHARS, "y" * (LINE_CHARS + 1), " " * 5, "line\u2028separator",
]


@pytest.mark.parametrize("text", TEXTS)
def test_preview_and_short_read_as_the_full_cleaning_reads(text):
    assert preview(text) == cleaned_preview(text)
    assert short(text) == cleaned_short(text)
    if "\x1b" in text or "\u202e" in text:  # the full path did its work on these
        assert "\x1b" not in cleaned_preview(text)[0] and "\u202e" not in cleaned_short(text)
