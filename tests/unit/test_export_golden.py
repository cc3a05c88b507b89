"""Golden files of every export format, on a replay of a real prompt regression.

The incident replays OpenHands' CodeAct system prompt history (tests/data/openhands-codeact): v5 "Adjust
prompt to use view command (#5506)" cost SWE-Bench performance and was reverted by v6, which
is byte-identical to v4. Everything is built through the services with a fixed clock, so the
files change only when the rendering (or the timeline wording) does.

Regenerate after an intended change: UPDATE_GOLDEN=1 pytest tests/unit/test_export_golden.py
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import Clock

from incident_tui.config import Config
from incident_tui.domain.export import FORMATS, render
from incident_tui.domain.postmortem import (
    SECTION_KEYS,
    ActionItem,
    ActionKind,
    ActionStatus,
)
from incident_tui.services.incidents import IncidentService
from incident_tui.services.postmortem import PostmortemService

GOLDEN = Path(__file__).parent / "golden"
EST = timezone(timedelta(hours=-5))
PROMPT = "openhands-codeact-system-prompt"


def build_openhands_incident(db) -> tuple[IncidentService, PostmortemService, str]:
    """Declare, triage, roll back, fix and write up the v5 regression; returns the services and id."""
    clock = Clock(datetime(2025, 1, 27, 9, 12, tzinfo=EST))
    incidents = IncidentService(db, config=Config(user="ana"), clock=clock)
    for n in range(1, 7):  # rollback and promotion act only on registered versions (v6 is the fix)
        incidents.prompts.add(PROMPT, f"system prompt, revision {n}\n")
    inc = incidents.declare(
        title="SWE-Bench success rate dropped after system prompt v5",
        prompt_id=PROMPT,
        version=5,
        severity="P2",
        detected_by="downstream",
        started_at=datetime(2025, 1, 22, 8, 0, tzinfo=EST),
    )
    incidents.set_people(inc.id, scribe="bo", responders=["chen"])
    clock.at(datetime(2025, 1, 27, 9, 20, tzinfo=EST))
    incidents.note(inc.id, "Nightly SWE-Bench run: resolve rate down against the v4 baseline on the same model",
                   star=True, author="bo")
    incidents.note(inc.id, "checking whether the eval harness changed too", author="chen")  # not starred: left out
    clock.at(datetime(2025, 1, 27, 9, 41, tzinfo=EST))
    incidents.triage(
        inc.id, "prompt-quality",
        "v5 tells the agent to start exploring with its view command; trajectories read files one by one "
        "instead of searching",
    )
    clock.at(datetime(2025, 1, 27, 10, 5, tzinfo=EST))
    incidents.rollback(inc.id, to_version=4)
    clock.at(datetime(2025, 1, 27, 10, 30, tzinfo=EST))
    incidents.note(inc.id, "Smoke eval on v4 back at baseline", star=True, author="chen")
    incidents.milestone(inc.id, "impact-resolved")
    clock.at(datetime(2025, 1, 27, 15, 0, tzinfo=EST))
    incidents.advance(inc.id, "diagnose")
    incidents.milestone(
        inc.id, "root-cause",
        text="v5 (#5506) added \"You should start exploring the file system with your view command\", which made "
             "the agent spend its early turns on directory views instead of grep/find, so fewer tasks reached a "
             "passing patch within the turn budget",
    )
    clock.at(datetime(2025, 1, 28, 9, 52, tzinfo=EST))
    incidents.advance(inc.id, "remediate")
    incidents.milestone(inc.id, "staging", version=6)
    clock.at(datetime(2025, 1, 28, 11, 0, tzinfo=EST))
    incidents.milestone(inc.id, "promoted", version=6)
    incidents.advance(inc.id, "postmortem")

    clock.at(datetime(2025, 1, 29, 10, 0, tzinfo=EST))
    pms = PostmortemService(db, incidents)
    save = lambda field, value: pms.save_field(inc.id, field, value)  # noqa: E731
    save("review_date", "2025-02-04")
    save("summary",
         "System prompt v5 told the CodeAct agent to start exploring with its view command, and the SWE-Bench "
         "resolve rate fell for five days. Every benchmark run and every user session on v5 was affected. We "
         "rolled back to v4 and shipped v6, a revert of #5506.")
    save("trigger", "PR #5506 merged to main on 2025-01-21 and went live with the next deploy.")
    save("detection_why",
         "Only the nightly SWE-Bench run measures the resolve rate, and nobody compared it with the previous "
         "version's <baseline> until five days later.")
    save("impact_requests", "All sessions on v5 (100% of traffic, 2025-01-22 to 2025-01-27)")
    save("impact_segments", "SWE-Bench evaluation; users on the main branch & nightly builds")
    save("impact_business", "Published benchmark numbers were at risk; contributors lost a week comparing runs.")
    pms.add_factor(inc.id, "Prompt changes merged without an eval gate")
    pms.add_factor(inc.id, "The {% if %} blocks of the .j2 template are not covered by tests")
    pms.add_factor(inc.id, "Eval dashboard shows absolute scores | no per-version diff")
    pms.add_action(inc.id, ActionItem("Run a SWE-Bench Lite smoke eval on every system-prompt PR", "ana",
                                      "2025-02-14", ActionKind.PREVENTS_RECURRENCE, ActionStatus.IN_PROGRESS,
                                      "https://github.com/All-Hands-AI/OpenHands/issues/6492"))
    pms.add_action(inc.id, ActionItem("Alert when the nightly resolve rate drops more than 3 points *below* the "
                                      "previous version", "bo", "2025-02-07", ActionKind.IMPROVES_DETECTION))
    pms.add_action(inc.id, ActionItem("Document the prompt rollback runbook [kill switch, rollback]", "chen",
                                      "2025-02-10", ActionKind.IMPROVES_RESPONSE, ActionStatus.DONE))
    save("went_well", "Rollback to v4 took 53 minutes from detection and needed no code change.")
    save("went_badly", "Five days passed before anyone looked at the nightly numbers.\nThe first hypothesis "
         "blamed the eval harness.")
    save("lucky", "The regression was large enough to stand out from run-to-run noise.")
    pms.set_status(inc.id, "in-review")
    return incidents, pms, inc.id


@pytest.fixture
def openhands(db):
    return build_openhands_incident(db)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {name}: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_whole_postmortem_matches_golden(openhands, fmt):
    _, pms, incident_id = openhands
    ext = {"markdown": "md", "text": "txt", "slack": "slack", "jira": "jira"}[fmt]
    check_golden(f"openhands-v5.{ext}", pms.render(incident_id, fmt))


def test_sections_are_slices_of_the_whole(openhands):
    _, pms, incident_id = openhands
    pm = pms.load(incident_id)
    for fmt in FORMATS:
        whole = render(pm, fmt)
        parts = [render(pm, fmt, key) for key in SECTION_KEYS]
        assert "\n".join(parts) == whole
