"""The timeline and details follow the list's cursor: a burst of keys lands on the right incident."""

from __future__ import annotations

import pytest
from helpers import settle, timeline_rows
from textual.geometry import Region

from incident_tui.config import Config
from incident_tui.tui.widgets.details import DetailsPanel
from incident_tui.tui.widgets.incident_list import IncidentList
from incident_tui.tui.widgets.timeline import TimelinePane


@pytest.fixture
def many_db(db, clock):
    from incident_tui.services.incidents import IncidentService

    service = IncidentService(db, clock=clock)
    for n in range(30):
        incident = service.declare(title=f"burst incident {n}", prompt_id=f"prompt-{n}", severity="P2",
                                   detected_by="alert", new_prompt=True)
        service.note(incident.id, f"only on incident {n}")
    return db


@pytest.mark.parametrize("delay", [0.05, 0])
async def test_twenty_j_in_one_burst_show_the_twenty_first_incident_and_its_timeline(many_db, clock, delay):
    from incident_tui.tui.app import IncidentApp

    app = IncidentApp(db=many_db, config=Config(user="ana"), clock=clock, poll_interval=0, selection_delay=delay)
    shown: list[tuple[str | None, set[str]]] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        timeline = app.query_one(TimelinePane)
        real_show = timeline.show

        def show(incident_id, events, now):  # every timeline the screen is given, in order
            shown.append((incident_id, {e.incident_id for e in events}))
            real_show(incident_id, events, now)

        timeline.show = show  # type: ignore[method-assign]
        expected = app.service.list()[20]
        await pilot.press(*"j" * 20)
        await settle(pilot)
        await pilot.pause(delay * 4)
        await settle(pilot)
        assert app.query_one(IncidentList).current_id == expected.id
        assert app.current is not None and app.current.id == expected.id
        # The timeline shown last is the 21st incident's, and each shown was the one it said it was.
        assert shown and shown[-1][0] == expected.id
        assert all(events <= {incident_id} for incident_id, events in shown)
        texts = timeline_rows(app)
        assert any(f"only on {expected.title.removeprefix('burst ')}" in t for t in texts)
        assert expected.title in str(app.query_one(DetailsPanel).render())
        top = timeline.render_lines(Region(0, 0, timeline.size.width, 1))[0].text  # the pane's title line
        assert f"2 Timeline · {expected.id}" in top


async def test_a_key_right_after_a_move_acts_on_the_incident_under_the_cursor(many_db, clock):
    from incident_tui.tui.app import IncidentApp

    app = IncidentApp(db=many_db, config=Config(user="ana"), clock=clock, poll_interval=0, selection_delay=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        second = app.service.list()[1]
        # Well inside the selection delay: the timeline has not followed yet when n arrives.
        await pilot.press("j", "n", *"on the second", "enter")
        await settle(pilot)
        assert app.service.timeline(second.id)[-1].text == "on the second"
        assert app.query_one(TimelinePane).incident_id == second.id
        assert "on the second" in timeline_rows(app)[-1]


async def test_the_open_shows_the_first_incident_once(many_db, clock):
    from incident_tui.tui.app import IncidentApp

    app = IncidentApp(db=many_db, config=Config(user="ana"), clock=clock, poll_interval=0)
    asked: list[str] = []
    real = app.service.repo.timeline  # the read itself, whichever service call asks for it

    def timeline(incident_id):
        asked.append(incident_id)
        return real(incident_id)

    app.service.repo.timeline = timeline  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)  # longer than the selection delay: a second paint would have come
        await settle(pilot)
        assert asked == [app.service.list()[0].id]  # the selected incident's timeline, once
