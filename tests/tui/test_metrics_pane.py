"""The metrics pane in a tiny host app (Pilot)."""

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Static

from incident_tui.config import Config
from incident_tui.domain.metrics import MetricFilter
from incident_tui.services.alerts import AlertService
from incident_tui.services.incidents import IncidentService
from incident_tui.services.metrics import MetricsService
from incident_tui.tui.widgets.metrics_pane import MetricsPane, bar_cells

PAYLOADS = Path(__file__).parents[1] / "unit" / "payloads"
NOW = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))


class Host(App):
    def __init__(self, db, **kwargs):
        super().__init__()
        self.db = db
        self.kwargs = kwargs

    def compose(self) -> ComposeResult:
        yield MetricsPane(MetricsService(self.db, clock=lambda: NOW), id="metrics", **self.kwargs)


def part(pane, name) -> str:
    return pane.query_one(f"#metrics-{name}", Static).content.plain


def seed(db):
    clock = lambda: NOW  # noqa: E731
    alerts = AlertService(db, config=Config(user="ana"), clock=clock)
    alerts.ingest("alertmanager", json.loads((PAYLOADS / "alertmanager_firing.json").read_text()))
    alerts.ingest("grafana", json.loads((PAYLOADS / "grafana_firing.json").read_text()))
    return IncidentService(db, config=Config(user="ana"), clock=clock)


def test_bar_cells_scale_from_zero_and_show_missing():
    assert bar_cells([None, 0, 1, 8]) == ["·", "▁", "▁", "█"]
    assert bar_cells([4, 8]) == ["▄", "█"]
    assert bar_cells([None, None]) == ["·", "·"]


async def test_empty_database_shows_dashes_not_zeros(db):
    async with Host(db).run_test(size=(100, 40)) as pilot:
        pane = pilot.app.query_one(MetricsPane)
        assert pane.report.incident_count == 0
        assert part(pane, "title").startswith("0 incidents · all incidents")
        assert "Time to detect" in part(pane, "figures") and "—" in part(pane, "figures")
        assert "nothing to chart" in part(pane, "chart")
        assert part(pane, "actions").endswith("none open")


async def test_figures_chart_counts_and_refresh(db):
    service = seed(db)
    async with Host(db).run_test(size=(100, 40)) as pilot:
        pane = pilot.app.query_one(MetricsPane)
        assert pane.border_title == "Metrics"
        assert pane.report.incident_count == 2
        figures = part(pane, "figures").splitlines()
        contain = [line for line in figures if line.startswith("Time to contain")][0]
        assert contain.split()[-2:] == ["0", "2"]  # no time yet: missing, never zero
        chart = part(pane, "chart").splitlines()
        assert chart[0].startswith("Per week,") and chart[1].startswith("Incidents")
        assert "·" in chart[3]  # contain row: nothing measured
        assert "support-summary 1" in part(pane, "counts") and "untriaged 2" in part(pane, "counts")

        incident_id = [i for i in service.list() if i.prompt_id == "faq-answer"][0].id
        service.triage(incident_id, "api", "upstream timeouts")
        # The kill switch acts on registered versions only.
        service.prompts.add_texts("faq-answer", [f"faq, revision {n}\n" for n in range(1, 13)])
        service.kill_switch(incident_id)
        pane.refresh_metrics()
        await pilot.pause()
        contain = [line for line in part(pane, "figures").splitlines() if line.startswith("Time to contain")][0]
        assert contain.split()[-2:] == ["1", "1"]
        assert "API 1" in part(pane, "counts")


async def test_filters_and_action_items(db):
    seed(db)
    db.table("postmortems").insert({
        "incident_id": "INC-20261125-001",
        "action_items": [{"owner": "ana", "due": "2026-11-01", "status": "open"},
                         {"owner": "bo", "due": "2026-12-24", "status": "open"}],
    })
    async with Host(db).run_test(size=(100, 40)) as pilot:
        pane = pilot.app.query_one(MetricsPane)
        actions = part(pane, "actions")
        assert actions.startswith("Action items     2 open · 1 overdue") and "1 overdue" in actions.splitlines()[1]
        pane.set_filters(MetricFilter(prompt="faq-answer"))
        await pilot.pause()
        assert part(pane, "title").startswith("1 incident · prompt=faq-answer")
        assert part(pane, "actions").endswith("none open")  # ana's and bo's items belong to the other prompt


async def test_user_text_is_shown_as_data_not_markup(db):
    payload = json.loads((PAYLOADS / "grafana_firing.json").read_text())
    payload["alerts"][0]["labels"]["prompt_id"] = "[bold red]x[/]"
    AlertService(db, clock=lambda: NOW).ingest("grafana", payload)
    async with Host(db).run_test(size=(100, 40)) as pilot:
        pane = pilot.app.query_one(MetricsPane)
        assert "[bold red]x[/] 1" in part(pane, "counts")


async def test_a_failing_store_is_one_line_not_a_crash(db):
    async with Host(db).run_test(size=(100, 40)) as pilot:
        pane = pilot.app.query_one(MetricsPane)

        def broken(filters=None):
            raise OSError("disk on fire")

        pane.service.report = broken
        pane.refresh_metrics()
        await pilot.pause()
        assert pane.report is None and part(pane, "title") == "Metrics unavailable: OSError: disk on fire"


async def test_narrow_terminal_does_not_wrap_rows(db):
    seed(db)
    async with Host(db, weeks=30).run_test(size=(60, 24)) as pilot:
        pane = pilot.app.query_one(MetricsPane)
        chart = pane.query_one("#metrics-chart", Static)
        assert chart.size.height == len(part(pane, "chart").splitlines())


async def test_the_pane_reads_under_the_lock_it_is_given(db):
    seed(db)
    lock = threading.RLock()
    service = MetricsService(db, clock=lambda: NOW)
    held = []
    report = service.report

    def watched(filters=None):
        # RLock has no public "held by me"; a non-blocking acquire from another thread tells.
        probe = threading.Thread(target=lambda: held.append(not lock.acquire(blocking=False)))
        probe.start()
        probe.join()
        return report(filters)

    service.report = watched

    class LockedHost(App):
        def compose(self) -> ComposeResult:
            yield MetricsPane(service, lock=lock, id="metrics")

    async with LockedHost().run_test(size=(100, 40)) as pilot:
        pane = pilot.app.query_one(MetricsPane)
        pane.refresh_metrics()
        await pilot.pause()
        assert pane.report.incident_count == 2
    assert held and all(held)


async def test_the_dashboard_pane_shares_the_app_service_and_lock(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        pane = app.query_one(MetricsPane)
        assert pane.service.stores is app.service.stores
        assert pane._store_lock() is app.db_lock
        assert pane.report.incident_count == len(app.service.list(include_closed=True))
