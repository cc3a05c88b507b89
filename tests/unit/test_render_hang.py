"""Timeline lines keep their times in a column, also for notes written with line breaks."""

from __future__ import annotations

from datetime import datetime, timezone

from incident_tui.domain.models import EventKind, TimelineEvent
from incident_tui.tui.render import event_row

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)


def _lines(text: str, width: int) -> list[str]:
    return event_row(TimelineEvent("INC-20261125-001", NOW, EventKind.NOTE, text), NOW,
                     with_date=False, width=width).plain.split("\n")


def test_a_short_note_of_two_lines_hangs_its_second_line_under_the_text() -> None:
    lines = _lines("first line\nsecond line", 80)
    assert lines[0].endswith("first line")
    indent = lines[0].index("first")
    assert lines[1] == " " * indent + "second line"


def test_a_blank_line_in_a_note_is_kept_and_wrapped_lines_still_hang() -> None:
    lines = _lines("a\n\n" + "word " * 30, 40)
    indent = lines[0].index("a")
    assert lines[1].strip() == ""
    assert len(lines) > 3
    assert all(line.startswith(" " * indent) and line[indent] != " " for line in lines[2:])
    assert all(len(line) <= 40 for line in lines)


def test_a_one_line_note_that_fits_is_untouched() -> None:
    assert _lines("all good", 80) == [_lines("all good", 0)[0]]
