"""The rules behind "keys land where the user meant": backdating and leaving contain uncontained."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from incident_tui.config import Config
from incident_tui.domain.lifecycle import leaves_uncontained
from incident_tui.domain.models import ContainmentAction, EventKind, Incident, Severity, Stage, TriageCategory
from incident_tui.domain.times import BackdateError, check_backdate, parse_when
from incident_tui.services.incidents import IncidentService

TZ = timezone(timedelta(hours=1))
MORNING = datetime(2026, 11, 25, 9, 31, tzinfo=TZ)
IMPACT = datetime(2026, 11, 25, 9, 10, tzinfo=TZ)


# --- domain: check_backdate ------------------------------------------------------------------

def test_the_reported_case_14_32_typed_at_09_31_is_asked_not_silent():
    at = parse_when("14:32", MORNING)  # yesterday 14:32: right after midnight, wrong here
    assert at == datetime(2026, 11, 24, 14, 32, tzinfo=TZ)
    with pytest.raises(BackdateError) as caught:
        check_backdate(at, now=MORNING, impact_start=IMPACT, detected_at=MORNING, typed="14:32")
    assert caught.value.confirmable
    assert str(caught.value) == "'14:32' is Nov 24 14:32, 18h 38m before impact started (09:10)"


def test_a_time_in_the_future_is_refused_without_a_way_round():
    with pytest.raises(BackdateError, match="in the future") as caught:
        check_backdate(MORNING + timedelta(minutes=5), now=MORNING, impact_start=IMPACT, detected_at=MORNING)
    assert not caught.value.confirmable
    # a minute of clock skew between terminals is not the future
    check_backdate(MORNING + timedelta(seconds=50), now=MORNING, impact_start=IMPACT, detected_at=MORNING)


@pytest.mark.parametrize("at", [IMPACT, IMPACT + timedelta(minutes=1), MORNING - timedelta(minutes=5), MORNING])
def test_times_between_impact_start_and_now_pass(at):
    check_backdate(at, now=MORNING, impact_start=IMPACT, detected_at=MORNING)


def test_without_an_impact_start_the_hour_before_detection_is_open():
    check_backdate(MORNING - timedelta(minutes=59), now=MORNING, impact_start=None, detected_at=MORNING)
    with pytest.raises(BackdateError, match="before detection .* no impact start is set") as caught:
        check_backdate(MORNING - timedelta(minutes=61), now=MORNING, impact_start=None, detected_at=MORNING)
    assert caught.value.confirmable


def test_one_second_before_impact_start_is_asked():
    with pytest.raises(BackdateError, match="before impact started"):
        check_backdate(IMPACT - timedelta(seconds=1), now=MORNING, impact_start=IMPACT, detected_at=MORNING)


# --- domain: leaving contain uncontained ------------------------------------------------------

def incident(category, stage=Stage.CONTAIN, contained=False) -> Incident:
    inc = Incident(id="INC-20261125-001", title="t", prompt_id="p", prompt_version=3, severity=Severity.P2,
                   detected_by="alert", detected_at=MORNING, stage=stage, category=category)
    if contained:
        inc.contained_at, inc.containment = MORNING, ContainmentAction.ROLLBACK
    return inc


@pytest.mark.parametrize("category", [TriageCategory.API, TriageCategory.UPSTREAM_DATA,
                                      TriageCategory.MODEL_BEHAVIOUR])
def test_other_categories_leaving_contain_uncontained_say_why(category):
    why = leaves_uncontained(incident(category), Stage.DIAGNOSE)
    assert why and "not" in why and category.label.split()[0].lower() in why.lower()
    assert leaves_uncontained(incident(category), Stage.REMEDIATE)  # skipping diagnose too
    assert leaves_uncontained(incident(category, stage=Stage.TRIAGE), Stage.DIAGNOSE)


def test_no_reason_needed_when_contained_closing_already_past_or_prompt_quality():
    assert leaves_uncontained(incident(TriageCategory.API, contained=True), Stage.DIAGNOSE) is None
    assert leaves_uncontained(incident(TriageCategory.API), Stage.CLOSED) is None
    assert leaves_uncontained(incident(TriageCategory.API, stage=Stage.DIAGNOSE), Stage.REMEDIATE) is None
    assert leaves_uncontained(incident(TriageCategory.API), Stage.CONTAIN) is None
    # prompt quality has its own guard (contain first, or an override with a reason)
    assert leaves_uncontained(incident(TriageCategory.PROMPT_QUALITY), Stage.DIAGNOSE) is None


# --- service ---------------------------------------------------------------------------------

@pytest.fixture
def svc(db, clock):
    return IncidentService(db, config=Config(user="ana"), clock=clock)


def declare(svc, **kw):
    return svc.declare(title="t", prompt_id="support-summary", severity="P2", detected_by="alert", new_prompt=True,
                       **kw)


def test_service_refuses_a_note_before_impact_start_unless_confirmed(svc, clock):
    inc = declare(svc, started_at=clock.now - timedelta(minutes=20))
    with pytest.raises(BackdateError, match="before impact started"):
        svc.note(inc.id, "-30m deploy of v7")
    assert not [e for e in svc.timeline(inc.id) if e.kind is EventKind.NOTE]
    event = svc.note(inc.id, "-30m deploy of v7", before_impact=True)
    assert event.backdated and event.text == "deploy of v7"
    assert event.at == clock.now - timedelta(minutes=30)


def test_service_refuses_a_future_note_even_when_confirmed(svc, clock):
    inc = declare(svc)
    with pytest.raises(BackdateError, match="in the future"):
        svc.note(inc.id, "x", at=clock.now + timedelta(hours=2), before_impact=True)


def test_service_stamps_why_an_api_incident_left_contain_uncontained(svc):
    inc = declare(svc)
    svc.triage(inc.id, "api", "provider 429s")
    svc.advance(inc.id, "contain")
    svc.advance(inc.id, "diagnose")
    texts = [e.text for e in svc.timeline(inc.id)]
    assert any(t.startswith("Moved on with the prompt not contained: an API incident") for t in texts)


# --- CLI -------------------------------------------------------------------------------------

def test_cli_note_at_before_impact_is_one_line_naming_the_flag(run):
    incident_id = run("declare", "--title", "t", "--prompt", "support-summary", "--severity", "P2",
                      "--detected-by", "alert", "--started-at", "-10m", "--new-prompt").output.strip()
    refused = run("note", incident_id, "deploy of v7", "--at", "-3h")
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1
    assert "before impact started" in refused.stderr and "--before-impact" in refused.stderr
    ok = run("note", incident_id, "deploy of v7", "--at", "-3h", "--before-impact", "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["backdated"]
    future = run("note", incident_id, "later", "--at", "2099-01-01T10:00")
    assert future.exit_code == 1 and "in the future" in future.stderr and "--before-impact" not in future.stderr
