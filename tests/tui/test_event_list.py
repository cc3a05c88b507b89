"""The timeline's event list: painted line by line, exactly as the OptionList it replaced painted it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from helpers import settle
from test_dashboard import P1
from textual.app import App, ComposeResult
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from incident_tui.config import Config
from incident_tui.domain.models import EventKind, TimelineEvent
from incident_tui.tui.render import event_row, spans_days
from incident_tui.tui.widgets.event_list import EventList
from incident_tui.tui.widgets.incident_list import IncidentList
from incident_tui.tui.widgets.timeline import TimelinePane

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))
LONG = ("Canary shows the interactive/non-interactive split regressed after the change to the system "
        "prompt's SI section; tool calls drop by a third on long sessions and the agent stops editing")
HOSTILE = "[bold]x[/] \x1b[31mred\x1b[0m \u202egnp.exe [link=https://x]y[/link] [@click=app.quit]q[/]"


def sample_events() -> list[TimelineEvent]:
    at = NOW - timedelta(hours=3)
    texts = [
        (EventKind.IMPACT_START, "impact began", "", False, False),
        (EventKind.DETECTION, "alert: refusal rate 4x baseline", "", False, False),
        (EventKind.NOTE, "looking at the canary", "ana", False, False),
        (EventKind.NOTE, "starred finding", "bo", True, False),
        (EventKind.NOTE, "written later", "cy", False, True),
        (EventKind.CONTAINMENT, "rolled back to v6", "", False, False),
        (EventKind.ALERT, "pager: p95 latency", "", False, False),
        (EventKind.NOTE, LONG, "ana", False, False),
        (EventKind.NOTE, "first line\nsecond line\n\nfourth line", "bo", False, False),
        (EventKind.NOTE, HOSTILE, "[red]mallory[/]", False, False),
        (EventKind.NOTE, "tab\tinside", "ana", False, False),
        (EventKind.NOTE, "word " * 200, "ana", False, False),  # cut: "… (enter to view all)"
        (EventKind.NOTE, "全角の文字と絵文字 🚨 wide", "ana", False, False),
    ]
    return [TimelineEvent("INC-1", at + timedelta(minutes=n), kind, text, author=author, starred=starred,
                          backdated=backdated, doc_id=n + 1)
            for n, (kind, text, author, starred, backdated) in enumerate(texts)]


class SideBySide(App):
    """The event list beside the OptionList it replaced, the same size, the same rows (neither focused)."""

    AUTO_FOCUS = None

    CSS = """
    Screen { layout: horizontal; }
    EventList, OptionList { width: 1fr; height: 1fr; border: none; scrollbar-gutter: stable; }
    """

    def compose(self) -> ComposeResult:
        yield EventList()
        yield OptionList()


def painted(widget, height: int) -> list[list[tuple[str, object]]]:
    """Each line's segments as text and style, meta left out (offsets and row numbers are bookkeeping)."""
    return [[(segment.text, segment.style.clear_meta_and_links() if segment.style else None)
             for segment in widget.render_line(y)] for y in range(height)]


@pytest.mark.parametrize("width", [120, 70, 44])
async def test_the_event_list_paints_exactly_what_the_option_list_painted(width):
    events = sample_events()
    app = SideBySide()
    async with app.run_test(size=(width * 2, 60)) as pilot:
        await pilot.pause()
        event_list, option_list = app.query_one(EventList), app.query_one(OptionList)
        with_date = spans_days(events, NOW)
        event_list.show(events, NOW, with_date=with_date, highlighted=3)
        wrap = option_list.scrollable_content_region.width - 1
        option_list.set_options(Option(event_row(e, NOW, with_date=with_date, width=wrap), id=str(e.doc_id))
                                for e in events)
        option_list.highlighted = 3
        await pilot.pause()
        assert event_list.virtual_size.height == option_list.virtual_size.height
        height = event_list.virtual_size.height
        assert painted(event_list, height) == painted(option_list, height)
        # Hostile text is on screen literally: markup as typed, escapes gone, bidi overrides shown.
        screen = "\n".join(event_list.render_line(y).text for y in range(height))
        assert "[bold]x[/]" in screen and "[@click=app.quit]q[/]" in screen and "[red]mallory[/]" in screen
        assert "\x1b" not in screen and "\u202e" not in screen and "<U+202E>" in screen


async def test_a_long_note_wraps_under_its_text_and_rewraps_on_resize(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        app.service.note(P1, LONG + " " + LONG)
        app.reload()
        await settle(pilot)
        for size in [(140, 40), (100, 30), (200, 50)]:
            await pilot.resize_terminal(*size)
            await settle(pilot)
            event_list = app.query_one(EventList)
            width = event_list.scrollable_content_region.width
            lines = [event_list.render_line(y).text for y in range(event_list.size.height)]
            start = next(n for n, line in enumerate(lines) if "Canary shows" in line)
            row = [lines[start]]
            for line in lines[start + 1:]:
                if not line.startswith(" " * 8) or not line.strip():
                    break
                row.append(line)
            assert len(row) > 2 and all(len(line) == width for line in lines)  # padded to, never past, the width
            indent = lines[start].index("ana:")
            assert all(line[:indent].strip() == "" and line[indent] != " " for line in row[1:])  # the hang
            words = " ".join(" ".join(line.split()) for line in row)
            assert " ".join((LONG + " " + LONG).split()) in words  # every word, in order, nothing cut


async def test_keys_in_the_event_list_move_the_cursor_and_enter_opens_the_event(make_app):
    from incident_tui.tui.screens.text_view import TextViewScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        event_list = app.query_one(EventList)
        last = len(event_list.events) - 1
        assert event_list.highlighted == last  # a new incident opens on its latest event
        await pilot.press("up", "up", "down")
        assert event_list.highlighted == last - 1
        await pilot.press("home")
        assert event_list.highlighted == 0
        await pilot.press("up")  # wraps round, as the OptionList did
        assert event_list.highlighted == last
        await pilot.press("pageup", "end", "home", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TextViewScreen)
        assert app.query_one(TimelinePane).selected_event == event_list.events[1]


async def test_a_burst_across_incidents_paints_the_last_incidents_timeline(db, clock):
    from incident_tui.services.incidents import IncidentService
    from incident_tui.tui.app import IncidentApp

    service = IncidentService(db, clock=clock)
    for n in range(12):
        incident = service.declare(title=f"burst incident {n}", prompt_id=f"prompt-{n}", severity="P2",
                                   detected_by="alert", new_prompt=True)
        for k in range(n + 1):  # a timeline of a different length each: the scroll and wrap differ
            service.note(incident.id, f"incident {n} note {k} " + "long words " * (k % 4) * 12)
    app = IncidentApp(db=db, config=Config(user="ana"), clock=clock, poll_interval=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press(*"j" * 9, *"k" * 3, *"j" * 5)  # no pause between keys
        await settle(pilot)
        await pilot.pause(0.2)  # past the selection delay
        await settle(pilot)
        expected = service.list()[11]
        assert app.query_one(IncidentList).current_id == expected.id
        event_list = app.query_one(EventList)
        assert {e.incident_id for e in event_list.events} == {expected.id}
        screen = [event_list.render_line(y).text for y in range(event_list.size.height)]
        number = expected.title.removeprefix("burst incident ")
        assert any(f"incident {number} note {number}" in line for line in screen)  # its latest note, on screen
        assert not any(f"incident {int(number) - 1} note" in line for line in screen)
