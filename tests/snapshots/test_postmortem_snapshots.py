"""The postmortem pane as a responder sees it: 80×24 and a wide 160×48, plus its dialogs.

A half-written postmortem on a fixed incident, so the screens show prefilled fields ("auto"),
an edited one, inline lint, progress and the lists.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from helpers import Clock, settle
from textual.app import App, ComposeResult

from incident_tui.config import Config
from incident_tui.domain.postmortem import ActionItem, ActionKind
from incident_tui.services.incidents import IncidentService
from incident_tui.services.postmortem import PostmortemService
from incident_tui.tui.widgets.postmortem_form import PostmortemPane

EST = timezone(timedelta(hours=-5))


class SnapHost(App):
    def __init__(self, service: PostmortemService, incident_id: str) -> None:
        super().__init__()
        self.service = service
        self.incident_id = incident_id

    def compose(self) -> ComposeResult:
        yield PostmortemPane(self.service, id="pm")

    def on_mount(self) -> None:
        self.query_one(PostmortemPane).show_incident(self.incident_id)


@pytest.fixture
def snap_host(tmp_path):
    from incident_tui.store.storage import open_db

    db = open_db(tmp_path / "snap.json")
    clock = Clock(datetime(2025, 1, 27, 9, 12, tzinfo=EST))
    incidents = IncidentService(db, config=Config(user="ana"), clock=clock)
    for n in range(1, 6):  # rollback acts only on registered versions
        incidents.prompts.add("openhands-codeact-system-prompt", f"system prompt, revision {n}\n")
    inc = incidents.declare(
        title="SWE-Bench success rate dropped after system prompt v5", prompt_id="openhands-codeact-system-prompt",
        version=5, severity="P2", detected_by="downstream", started_at=datetime(2025, 1, 22, 8, 0, tzinfo=EST),
    )
    clock.now += timedelta(minutes=8)
    incidents.note(inc.id, "Nightly run: resolve rate down against the v4 baseline", star=True, author="bo")
    incidents.triage(inc.id, "prompt-quality", "v5 tells the agent to explore with its view command")
    clock.now += timedelta(minutes=45)
    incidents.rollback(inc.id, to_version=4)
    clock.now += timedelta(minutes=25)
    incidents.milestone(inc.id, "impact-resolved")
    pms = PostmortemService(db, incidents)
    pms.save_field(inc.id, "review_date", "2025-02-04")
    pms.save_field(inc.id, "severity", "P1 (benchmarks published)")
    pms.save_field(inc.id, "summary", "The SWE-Bench resolve rate fell after v5.")
    pms.save_field(inc.id, "root_cause", "The prompt was bad.")
    pms.add_factor(inc.id, "Prompt changes merged without an eval gate")
    pms.add_factor(inc.id, "The {% if %} blocks of the [bold] template are untested")
    pms.add_action(inc.id, ActionItem("Run a SWE-Bench Lite smoke eval on every prompt PR", "ana", "2025-02-14",
                                      ActionKind.PREVENTS_RECURRENCE, link="https://example.org/issues/6492"))
    pms.add_action(inc.id, ActionItem("Alert when the nightly resolve rate drops", "", "",
                                      ActionKind.IMPROVES_DETECTION))
    yield SnapHost(pms, inc.id)
    db.close()


async def ready(pilot, *keys: str) -> None:
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def test_postmortem_80x24_summary_with_lint(snap_compare, snap_host):
    async def run_before(pilot):
        await ready(pilot, "ctrl+down")

    assert snap_compare(snap_host, terminal_size=(80, 24), run_before=run_before)


def test_postmortem_80x24_header(snap_compare, snap_host):
    async def run_before(pilot):
        await ready(pilot, "tab")

    assert snap_compare(snap_host, terminal_size=(80, 24), run_before=run_before)


def test_postmortem_160x48_root_cause(snap_compare, snap_host):
    async def run_before(pilot):
        await ready(pilot, "ctrl+down", "ctrl+down", "ctrl+down")

    assert snap_compare(snap_host, terminal_size=(160, 48), run_before=run_before)


def test_postmortem_160x48_action_items(snap_compare, snap_host):
    async def run_before(pilot):
        await ready(pilot, *["ctrl+down"] * 7)

    assert snap_compare(snap_host, terminal_size=(160, 48), run_before=run_before)


def test_postmortem_action_dialog_80x24(snap_compare, snap_host):
    async def run_before(pilot):
        await ready(pilot, *["ctrl+down"] * 7, "down", "enter")

    assert snap_compare(snap_host, terminal_size=(80, 24), run_before=run_before)


def test_postmortem_final_checklist_80x24(snap_compare, snap_host):
    async def run_before(pilot):
        await ready(pilot, "ctrl+f")

    assert snap_compare(snap_host, terminal_size=(80, 24), run_before=run_before)
