"""Each widget that shows elapsed time owns its clock: it moves on its own and ends with the widget."""

from __future__ import annotations

from helpers import settle

from incident_tui.tui.widgets.details import DetailsPanel
from incident_tui.tui.widgets.header import StatusHeader
from incident_tui.tui.widgets.incident_list import IncidentList


def painted(widget) -> str:
    return str(widget.render())


def rows(app) -> list[str]:
    # The rows as the list reads them now: built once per reading of its own clock.
    incidents = app.query_one(IncidentList)
    return [incidents.row(i).plain for i in range(len(incidents.incidents))]


async def test_the_list_header_and_details_move_with_the_clock(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        before = (rows(app), painted(app.query_one(StatusHeader)), painted(app.query_one(DetailsPanel)))
        app.clock.advance(hours=3)  # nothing is written: only the clocks can change what is shown
        await pilot.pause(1.3)
        after = (rows(app), painted(app.query_one(StatusHeader)), painted(app.query_one(DetailsPanel)))
        assert all(b != a for b, a in zip(before, after))


async def test_a_widget_gone_takes_its_clock_with_it(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        # No timer may reach for a widget that is gone (the old app-wide tick failed with NoMatches
        # when the screen went first); the others keep their own clocks.
        await app.query_one(DetailsPanel).remove()
        header = painted(app.query_one(StatusHeader))
        app.clock.advance(hours=3)
        await pilot.pause(1.3)
        assert app.is_running and app.return_code is None
        assert painted(app.query_one(StatusHeader)) != header


async def test_the_header_repaints_when_its_words_change_not_on_every_tick(make_app):
    from rich.text import Text

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        header = app.query_one(StatusHeader)
        updates = []
        update = header.update
        header.update = lambda *args, **kwargs: updates.append(args) or update(*args, **kwargs)
        header._tick()
        header._tick()  # the same minute: the same words
        assert updates == []
        app.clock.advance(minutes=1)
        header._tick()
        assert len(updates) == 1
        # A line set from outside (the lock wait) is replaced by the next show, however alike its data.
        header.update(Text(" incident-tui · waiting for the database (q quits)"))
        header._tick()
        assert "active" in painted(header) and "waiting" not in painted(header)
