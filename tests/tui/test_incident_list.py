"""The incident list cuts each row line to the width it is painted at, whenever the rows were set."""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult

from incident_tui.domain.models import DetectionMethod, Incident, Severity
from incident_tui.tui.widgets.incident_list import IncidentList

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
LONG = "SWE-Bench resolve rate fell from 41% to 29% after the view-command prompt change " * 3


def incident(number: int, title: str = LONG) -> Incident:
    return Incident(id=f"INC-20261125-00{number}", title=title, prompt_id="openhands", prompt_version=5,
                    severity=Severity.P1, detected_by=DetectionMethod.ALERT, detected_at=NOW)


class Host(App):
    """Sets the rows in on_mount, before layout has given the list a width (what the dashboard does)."""

    def __init__(self, compact: bool) -> None:
        super().__init__()
        self.rows_compact = compact

    def compose(self) -> ComposeResult:
        yield IncidentList()

    def on_mount(self) -> None:
        self.query_one(IncidentList).show([incident(1), incident(2, "short")], NOW, compact=self.rows_compact)


def painted(app: App) -> list[str]:
    widget = app.query_one(IncidentList)
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_rows_set_before_layout_are_cut_to_the_painted_width_and_recut_on_resize():
    app = Host(compact=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = [line for line in painted(app) if line]
        # Two lines a row, whatever the title's length: the long title ends in an ellipsis.
        assert len(lines) == 4
        assert lines[1].endswith("…") and "short" in lines[3]
        width = app.query_one(IncidentList).scrollable_content_region.width
        assert all(len(line) < width for line in lines)  # one free column before the border

        await pilot.resize_terminal(120, 24)
        await pilot.pause()
        wider = [line for line in painted(app) if line]
        assert len(wider) == 4 and wider[1].endswith("…")
        assert len(wider[1]) > len(lines[1])


async def test_compact_rows_stay_one_line_each():
    app = Host(compact=True)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        lines = [line for line in painted(app) if line]
        assert len(lines) == 2
        assert lines[0].endswith("…") and lines[1].endswith("short")


class Many(App):
    """A list of thousands of incidents, as a long-running team's database has."""

    def __init__(self, count: int, compact: bool = False) -> None:
        super().__init__()
        self.rows = [incident(n, f"incident number {n}") for n in range(count)]
        for n, item in enumerate(self.rows):
            item.id = f"INC-20261125-{n:05d}"
        self.rows_compact = compact
        self.selected: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield IncidentList()

    def on_mount(self) -> None:
        self.query_one(IncidentList).show(self.rows, NOW, compact=self.rows_compact)
        self.query_one(IncidentList).focus()

    def on_incident_list_selected(self, message: IncidentList.Selected) -> None:
        self.selected.append(message.incident_id)


async def test_five_thousand_incidents_build_only_the_rows_on_screen():
    app = Many(5000)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        incidents = app.query_one(IncidentList)
        on_screen = incidents.size.height // 2 + 1
        assert 0 < len(incidents._texts) <= on_screen
        await pilot.press("end")
        await pilot.pause()
        assert incidents.current_id == "INC-20261125-04999"
        assert "INC-20261125-04999" in "\n".join(painted(app))
        assert len(incidents._texts) <= 2 * on_screen  # the first screen and the last, nothing between
        incidents.show(app.rows, NOW.replace(minute=5), compact=False)  # a clock tick
        await pilot.pause()
        assert len(incidents._texts) <= on_screen  # what is on screen, built again; nothing else
        assert painted(app)[-2].endswith(" 5m")
        await pilot.press("home", "pagedown")
        await pilot.pause()
        assert incidents.current_id == f"INC-20261125-{incidents.size.height // 2:05d}"  # a screen of rows on
        await pilot.press("pageup", "up")  # up from the first row goes round to the last, as before
        await pilot.pause()
        assert incidents.current_id == "INC-20261125-04999"
        assert app.selected[-1] == "INC-20261125-04999"


async def test_j_and_k_move_like_the_arrows_and_a_click_picks_the_row_under_it():
    app = Many(50, compact=True)
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        incidents = app.query_one(IncidentList)
        await pilot.press(*"jjjjk", "down", "down", "up")
        await pilot.pause()
        assert incidents.current_id == "INC-20261125-00004"
        await pilot.click(IncidentList, offset=(5, 2))  # compact: one line a row, third line
        await pilot.pause()
        assert incidents.current_id == "INC-20261125-00002"
        assert app.selected[-1] == "INC-20261125-00002"


async def test_a_clock_tick_keeps_the_cursor_and_moves_the_clocks_on_screen():
    app = Many(30)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        incidents = app.query_one(IncidentList)
        await pilot.press(*"jjj")
        await pilot.pause()
        assert painted(app)[0].endswith(" 0s")
        incidents.show(app.rows, NOW.replace(hour=15), compact=False)  # three hours on
        await pilot.pause()
        assert incidents.current_id == "INC-20261125-00003"
        assert all(line.endswith(" 3h 00m") for line in painted(app)[::2])


async def test_a_tick_that_moves_no_clock_builds_no_row_but_new_data_with_the_same_ids_does(monkeypatch):
    import dataclasses

    import incident_tui.tui.widgets.incident_list as module

    built = []
    real_row = module.incident_row
    monkeypatch.setattr(module, "incident_row", lambda incident, now, **kw: built.append(incident.id) or real_row(incident, now, **kw))
    app = Many(30)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        incidents = app.query_one(IncidentList)
        built.clear()
        incidents.show(app.rows, NOW.replace(microsecond=500_000), compact=False)  # a tick: the clocks read the same
        await pilot.pause()
        assert built == [] and painted(app)[0].endswith(" 0s")
        # The same ids, read again from the database: a changed title is painted, clocks or not.
        again = [dataclasses.replace(row) for row in app.rows]
        again[0].title = "renamed while the list was on screen"
        incidents.show(again, NOW.replace(microsecond=500_000), compact=False)
        await pilot.pause()
        assert "renamed while the list was on screen" in painted(app)[1]
        assert len(built) >= len(painted(app)) // 2 - 1  # every row on screen built again
