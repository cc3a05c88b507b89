"""The timeline re-wraps its lines whenever its width changes: zoom, terminal resize, scrollbar."""

from helpers import settle, timeline_rows
from test_dashboard import P1

from incident_tui.tui.widgets.timeline import TimelinePane

LONG = ("Canary shows the interactive/non-interactive split regressed after the change to the system "
        "prompt's SI section; tool calls drop by a third on long sessions and the agent stops editing")


def shown_lines(app) -> list[str]:
    return [line for row in timeline_rows(app) for line in row.split("\n")]


def assert_wrapped_to_pane(app) -> None:
    width = app.query_one(TimelinePane).event_list.scrollable_content_region.width
    lines = shown_lines(app)
    assert lines and all(len(line) <= width for line in lines), (width, [len(x) for x in lines])
    # Every word of the long note is on screen, in order (nothing cut at the old width).
    text = " ".join(line.strip() for line in lines)
    assert " ".join(LONG.split()) in " ".join(text.split())


async def test_timeline_rewraps_on_zoom_and_resize(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.service.note(P1, LONG)
        for n in range(30):  # enough lines that a scrollbar is needed
            app.service.note(P1, f"note {n}")
        app.reload()
        await settle(pilot)
        assert_wrapped_to_pane(app)
        narrow = app.query_one(TimelinePane).event_list.scrollable_content_region.width
        await pilot.press("2", "z")  # zoom the timeline: much wider
        await settle(pilot)
        assert app.query_one(TimelinePane).event_list.scrollable_content_region.width > narrow
        assert_wrapped_to_pane(app)
        await pilot.press("z")
        await settle(pilot)
        assert_wrapped_to_pane(app)
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert_wrapped_to_pane(app)
        await pilot.resize_terminal(160, 40)
        await settle(pilot)
        assert_wrapped_to_pane(app)


async def test_timeline_rewraps_when_a_scrollbar_appears(make_app):
    app = make_app()
    async with app.run_test(size=(120, 60)) as pilot:
        app.service.note(P1, LONG)
        app.reload()
        await settle(pilot)
        assert_wrapped_to_pane(app)
        for n in range(60):  # now the list scrolls
            app.service.note(P1, f"note {n}")
        app.reload()
        await settle(pilot)
        assert_wrapped_to_pane(app)
