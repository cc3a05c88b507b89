import sys
from pathlib import Path

import pytest

from incident_tui.config import Config, HookConfig
from incident_tui.domain.lifecycle import LifecycleError
from incident_tui.domain.models import (
    ContainmentAction,
    EventKind,
    Stage,
    TriageCategory,
)
from incident_tui.services.incidents import IncidentService, ServiceError
from incident_tui.services.prompts import PromptService


SUPPORT_TEXTS = {n: f"Summarize the conversation.\nrevision {n}\n" for n in range(1, 9)}
SUPPORT_TEXTS[6] = "Summarize the conversation.\nNever promise refunds.\nQuote amounts exactly.\n"
SUPPORT_TEXTS[7] = "Summarize the conversation.\nBe friendly.\nTell the agent what the customer is entitled to.\n" \
    "End with a suggested resolution.\n"


@pytest.fixture(autouse=True)
def registry(db, clock):
    """support-summary v1..v8 registered (v7 failing, v8 the fix), no label moved yet."""
    prompts = PromptService(db, clock=clock)
    for n in range(1, 9):
        prompts.add("support-summary", SUPPORT_TEXTS[n])
    return prompts


@pytest.fixture
def svc(db, clock):
    return IncidentService(db, config=Config(user="ana"), clock=clock)


def declare(svc, **kw):
    args = dict(title="Summaries invent refunds", prompt_id="support-summary", version=7, severity="P1",
                detected_by="alert")
    args.update(kw)
    return svc.declare(**args)


def test_declare_stamps_detection_and_backdated_impact(svc, clock):
    from datetime import timedelta

    incident = declare(svc, started_at=clock.now - timedelta(minutes=12))
    assert incident.id == "INC-20261125-001"
    events = svc.timeline(incident.id)
    assert [e.kind for e in events] == [EventKind.IMPACT_START, EventKind.DETECTION]
    assert events[0].backdated and events[0].at == clock.now - timedelta(minutes=12)
    assert "Detection: alert fired" in events[1].text
    assert svc.get(incident.id).detection_gap == timedelta(minutes=12)
    assert declare(svc).id == "INC-20261125-002"


def test_declare_refuses_future_impact_start(svc, clock):
    from datetime import timedelta

    with pytest.raises(ServiceError, match="after detection"):
        declare(svc, started_at=clock.now + timedelta(hours=1))


def test_user_text_is_cleaned(svc):
    incident = declare(svc, title="\x1b[31m[bold]x[/]\x1b[0m")
    assert svc.get(incident.id).title == "[bold]x[/]"


def test_note_backdate_prefix_and_star(svc, clock):
    incident = declare(svc)
    clock.advance(minutes=10)
    event = svc.note(incident.id, "-5m CS escalations spiking in EU")
    assert event.backdated and event.text == "CS escalations spiking in EU"
    assert event.author == "ana"
    assert svc.toggle_star(event.doc_id).starred is True
    assert svc.toggle_star(event.doc_id).starred is False
    with pytest.raises(ServiceError):
        svc.note(incident.id, "   ")


def test_contain_first_guard_then_rollback(svc, clock):
    incident = declare(svc)
    svc.triage(incident.id, TriageCategory.PROMPT_QUALITY, "v7 dropped the refund policy paragraph")
    assert svc.get(incident.id).stage is Stage.TRIAGE
    svc.advance(incident.id, "contain")
    with pytest.raises(LifecycleError) as err:
        svc.advance(incident.id, "diagnose")
    assert err.value.needs_override
    result = svc.rollback(incident.id)
    assert result.contained and result.plan.to_version == 6
    svc.advance(incident.id)
    assert svc.get(incident.id).stage is Stage.DIAGNOSE
    texts = [e.text for e in svc.timeline(incident.id)]
    assert any(t.startswith("Triage complete") and "refund policy" in t for t in texts)
    assert "Rollback executed. Traffic routed to support-summary v6 (from v7)" in texts
    assert any("nothing external ran" in t for t in texts)


def test_override_is_on_the_timeline(svc):
    incident = declare(svc)
    svc.triage(incident.id, "prompt-quality", "h")
    svc.advance(incident.id, "diagnose", reason="rollback target is also broken")
    timeline = svc.timeline(incident.id)
    assert any(e.kind is EventKind.OVERRIDE and "rollback target is also broken" in e.text for e in timeline)


def _hook(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "hook.py"
    script.write_text(body)
    return [sys.executable, str(script)]


def test_hook_gets_env_and_result_goes_on_timeline(db, clock, tmp_path):
    out = tmp_path / "env.txt"
    argv = _hook(tmp_path, f"import os\nopen({str(out)!r},'w').write(' '.join(os.environ[k] for k in "
                           "('INCIDENT_ID','PROMPT_ID','FROM_VERSION','TO_VERSION')))\nprint('routed')\n")
    svc = IncidentService(db, config=Config(hooks=HookConfig(rollback=argv, timeout=20)), clock=clock)
    incident = declare(svc)
    result = svc.rollback(incident.id, to_version=5)
    assert result.contained
    assert out.read_text() == f"{incident.id} support-summary 7 5"
    hook_line = [e for e in svc.timeline(incident.id) if e.kind is EventKind.HOOK][0]
    assert "Hook ok" in hook_line.text and "exit 0" in hook_line.text and "routed" in hook_line.text


def test_failing_hook_does_not_contain(db, clock, tmp_path):
    argv = _hook(tmp_path, "import sys\nprint('upstream refused')\nsys.exit(3)\n")
    svc = IncidentService(db, config=Config(hooks=HookConfig(kill_switch=argv, timeout=20)), clock=clock)
    incident = declare(svc)
    result = svc.kill_switch(incident.id)
    assert not result.contained
    assert svc.get(incident.id).contained_at is None
    texts = [e.text for e in svc.timeline(incident.id)]
    assert any("Hook failed" in t and "exit 3" in t and "upstream refused" in t for t in texts)
    assert any("NOT executed" in t for t in texts)


def test_hanging_hook_times_out(db, clock, tmp_path):
    argv = _hook(tmp_path, "import time\ntime.sleep(30)\n")
    svc = IncidentService(db, config=Config(hooks=HookConfig(rollback=argv, timeout=0.5)), clock=clock)
    incident = declare(svc)
    result = svc.rollback(incident.id)
    assert not result.contained and result.hook.exit_code is None
    assert "timed out" in result.message


def test_missing_hook_binary_is_a_failure(db, clock, tmp_path):
    svc = IncidentService(
        db, config=Config(hooks=HookConfig(rollback=[str(tmp_path / "nope.sh")])), clock=clock
    )
    incident = declare(svc)
    result = svc.rollback(incident.id)
    assert not result.contained and "could not start" in result.message


def test_plan_describes_the_change(svc):
    incident = declare(svc)
    plan = svc.plan_containment(incident.id, ContainmentAction.ROLLBACK)
    # From what is live to the target, and the change size in that same direction: rolling
    # v7 back to v6 brings back 2 lines and removes 3.
    assert plan.description.startswith("Route support-summary v7 → v6 (+2 −3 lines)")
    assert "nothing external runs" in plan.description


def test_milestones_and_close(svc, clock):
    incident = declare(svc)
    svc.triage(incident.id, "api", "provider 5xx")
    clock.advance(minutes=20)
    svc.milestone(incident.id, "impact-resolved")
    svc.milestone(incident.id, "root-cause", text="provider changed the default max_tokens")
    svc.milestone(incident.id, "staging", version=8)
    svc.milestone(incident.id, "promoted")
    closed = svc.milestone(incident.id, "closed")
    assert closed.stage is Stage.CLOSED and closed.promoted_version == 8
    texts = [e.text for e in svc.timeline(incident.id)]
    for expected in ("User impact resolved", "Root cause confirmed: provider changed the default max_tokens",
                     "Remediation deployed to staging (support-summary v8)",
                     "Remediation validated and promoted to production (support-summary v8)", "Incident closed"):
        assert expected in texts
    assert svc.list() == [] and len(svc.list(include_closed=True)) == 1
    with pytest.raises(ServiceError):
        svc.milestone(incident.id, "impact-resolved")


def test_people_and_edits_are_stamped(svc):
    incident = declare(svc)
    svc.set_people(incident.id, commander="bo", scribe="cy", responders=["dee", "eve"])
    svc.edit(incident.id, title="Refund summaries wrong", severity="P2")
    got = svc.get(incident.id)
    assert (got.commander, got.scribe, got.responders, got.severity.value) == ("bo", "cy", ["dee", "eve"], "P2")
    edits = [e.text for e in svc.timeline(incident.id) if e.kind is EventKind.EDIT]
    assert "Commander changed: ana → bo" in edits and "Severity changed: P1 → P2" in edits


def test_list_sorted_worst_first(svc, clock):
    from datetime import timedelta

    a = declare(svc, severity="P3")
    b = declare(svc, severity="P1", started_at=clock.now - timedelta(minutes=1))
    c = declare(svc, severity="P1", started_at=clock.now - timedelta(minutes=30))
    assert [i.id for i in svc.list()] == [c.id, b.id, a.id]


def test_list_of_open_incidents_never_reads_a_closed_one(svc, db):
    # Most of a long history is closed: the open list leaves those documents alone, so a
    # hand-damaged closed one is named only when closed incidents are asked for.
    open_one, closed_one, damaged = declare(svc), declare(svc, severity="P2"), declare(svc, severity="P3")
    for incident in (closed_one, damaged):
        svc.repo.save_incident(incident.__class__.from_dict({**incident.to_dict(), "stage": "closed"}))
    db.table("incidents").update({"severity": "P9"}, doc_ids=[db.table("incidents").get(
        cond=lambda doc: doc["id"] == damaged.id).doc_id])
    assert [i.id for i in svc.list()] == [open_one.id]
    assert svc.repo.skipped == []
    assert [i.id for i in svc.list(include_closed=True)] == [open_one.id, closed_one.id]
    [line] = svc.repo.skipped
    assert f"incident {damaged.id}" in line and "'severity': 'P9'" in line


def test_timeline_of_a_listed_incident_is_its_timeline(svc):
    first, second = declare(svc), declare(svc, severity="P2")
    svc.note(second.id, "only on the second")
    for listed in svc.list():
        assert svc.timeline_of(listed) == svc.timeline(listed.id)
    assert "only on the second" in [e.text for e in svc.timeline_of(second)]
    assert "only on the second" not in [e.text for e in svc.timeline_of(first)]


def test_samples(svc):
    incident = declare(svc)
    svc.add_sample(incident.id, input="refund?", output="You get 200% back", note="invented policy")
    assert svc.samples(incident.id)[0].output == "You get 200% back"
    assert svc.timeline(incident.id)[-1].kind is EventKind.SAMPLE
