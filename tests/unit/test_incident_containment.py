"""IncidentService: declare, contain and promote only what the prompt registry holds."""

from __future__ import annotations

import pytest

from incident_tui.config import Config, HookConfig
from incident_tui.domain.models import ContainmentAction, EventKind
from incident_tui.domain.prompts import UNASSIGNED
from incident_tui.services.incidents import IncidentService, ServiceError, UnknownPromptError
from incident_tui.services.prompts import PromptService


@pytest.fixture
def prompts(db, clock):
    return PromptService(db, clock=clock)


@pytest.fixture
def hook_log(tmp_path):
    return tmp_path / "hook.log"


@pytest.fixture
def svc(db, clock, tmp_path, hook_log):
    hook = tmp_path / "hook.sh"
    hook.write_text(f'#!/bin/sh\necho "$ACTION $PROMPT_ID $FROM_VERSION $TO_VERSION" >> {hook_log}\n')
    hook.chmod(0o755)
    hooks = HookConfig(rollback=[str(hook)], kill_switch=[str(hook)], timeout=20)
    return IncidentService(db, config=Config(user="ana", hooks=hooks), clock=clock)


def register(prompts, prompt_id, count, first_text=""):
    for n in range(1, count + 1):
        prompts.add(prompt_id, f"{prompt_id}\n{first_text}" + "".join(f"rule {i}\n" for i in range(n)))


def declare(svc, prompt_id, version=None, **kw):
    return svc.declare(title="t", prompt_id=prompt_id, version=version, severity="P1", detected_by="alert", **kw)


def test_declare_refuses_a_typo_with_the_closest_ids(svc, prompts):
    register(prompts, "gemini-system", 3)
    register(prompts, "gemini-system-pro", 1)
    with pytest.raises(UnknownPromptError) as refused:
        declare(svc, "gemini-sytem", 999)
    assert refused.value.suggestions[0] == "gemini-system" and not refused.value.registry_empty
    assert svc.list() == []


def test_declare_refuses_an_unknown_version_and_takes_production_by_default(svc, prompts):
    register(prompts, "p", 5)
    with pytest.raises(ServiceError, match=r"p has no version 999 \(it has v1–v5\)"):
        declare(svc, "p", 999)
    prompts.move_label("p", "production", 4, "ana", "release")
    assert declare(svc, "p").prompt_version == 4
    assert declare(svc, "p", 5).prompt_version == 5


def test_a_new_prompt_needs_saying_so_even_on_a_fresh_install(svc):
    with pytest.raises(UnknownPromptError) as refused:
        declare(svc, "support-summary", 7)
    assert refused.value.registry_empty
    incident = declare(svc, "support-summary", 7, new_prompt=True)
    assert (incident.prompt_id, incident.prompt_version) == ("support-summary", 7)


def test_the_typo_scenario_never_contains(svc, prompts, hook_log):
    """declare gemini-sytem v999 (as new), then r: refused, not 'v999 → v998', nothing ran."""
    register(prompts, "gemini-system", 3)
    incident = declare(svc, "gemini-sytem", 999, new_prompt=True)
    for action in ContainmentAction:
        with pytest.raises(ServiceError, match="nothing to (roll back to|act on)"):
            svc.plan_containment(incident.id, action)
    with pytest.raises(ServiceError, match="nothing to roll back to"):
        svc.rollback(incident.id, to_version=998)
    with pytest.raises(ServiceError):
        svc.kill_switch(incident.id)
    got = svc.get(incident.id)
    assert got.contained_at is None and got.containment is None and got.routed_to_version is None
    assert not hook_log.exists()
    assert [e.kind for e in svc.timeline(incident.id)] == [EventKind.DETECTION]


def test_rollback_direction_and_size_on_a_long_history(svc, prompts, hook_log):
    register(prompts, "p", 70)
    incident = declare(svc, "p", 70)
    plan = svc.plan_containment(incident.id, ContainmentAction.ROLLBACK, 68)
    # Routing v70 → v68 removes the two rules v69 and v70 added.
    assert (plan.from_version, plan.to_version, plan.change_summary) == (70, 68, "+0 −2 lines")
    assert plan.description.startswith("Route p v70 → v68 (+0 −2 lines) and run hook.sh")
    result = svc.contain(plan)
    assert result.contained and hook_log.read_text() == "rollback p 70 68\n"
    assert prompts.production_version("p") == 68


def test_the_kill_switch_routes_to_a_registered_fallback(svc, prompts, hook_log):
    register(prompts, "p", 3)
    incident = declare(svc, "p", 3)
    plan = svc.plan_containment(incident.id, ContainmentAction.KILL_SWITCH)
    assert (plan.from_version, plan.to_version) == (3, 2)
    assert svc.contain(plan).contained and hook_log.read_text() == "kill-switch p 3 2\n"


def test_rollback_options_are_in_picker_order(svc, prompts):
    register(prompts, "p", 8)
    for version in (2, 4, 3, 5, 7):
        prompts.move_label("p", "production", version, "ana", "release")
    options = svc.rollback_options(declare(svc, "p").id)
    assert options.live == 7 and options.has_history
    assert [c.version for c in options.candidates] == [5, 3, 4, 2, 8, 6, 1]
    assert options.candidates[0].default


def test_milestones_accept_only_registered_versions(svc, prompts):
    register(prompts, "p", 8)
    incident = declare(svc, "p", 7)
    with pytest.raises(ServiceError, match=r"p has no version 500 \(it has v1–v8\)"):
        svc.milestone(incident.id, "promoted", version=500)
    with pytest.raises(ServiceError, match="p has no version 500"):
        svc.milestone(incident.id, "staging", version=500)
    assert svc.get(incident.id).promoted_at is None and prompts.production_version("p") is None
    svc.milestone(incident.id, "promoted", version=8)
    assert prompts.production_version("p") == 8


def test_new_prompt_without_versions_cannot_be_promoted(svc):
    incident = declare(svc, "brand-new", 2, new_prompt=True)
    with pytest.raises(ServiceError, match="brand-new has no registered version"):
        svc.milestone(incident.id, "promoted", version=2)


def test_unassigned_incident_gets_its_prompt_by_triage_or_edit(svc, prompts):
    register(prompts, "support-summary", 7)
    register(prompts, "faq-answer", 3)
    incident = svc.declare(title="alert", prompt_id=UNASSIGNED, severity="P2", detected_by="alert")
    assert incident.prompt_version is None
    with pytest.raises(ServiceError, match="unassigned: set it first"):
        svc.rollback(incident.id)
    with pytest.raises(UnknownPromptError, match="did you mean 'support-summary'"):
        svc.triage(incident.id, "prompt-quality", "h", prompt_id="support-sumary")
    assert svc.get(incident.id).category is None  # refused as a whole
    svc.triage(incident.id, "prompt-quality", "h", prompt_id="support-summary", version=7)
    assert (svc.get(incident.id).prompt_id, svc.get(incident.id).prompt_version) == ("support-summary", 7)
    edited = svc.edit(incident.id, prompt_id="faq-answer")
    assert (edited.prompt_id, edited.prompt_version) == ("faq-answer", None)  # no production label: unknown
    edits = [e.text for e in svc.timeline(incident.id) if e.kind is EventKind.EDIT]
    assert edits == [f"Prompt changed: {UNASSIGNED} → support-summary v7",
                     "Prompt changed: support-summary v7 → faq-answer"]


def test_an_edit_of_the_title_does_not_recheck_a_new_prompt(svc):
    incident = declare(svc, "brand-new", 2, new_prompt=True)
    assert svc.edit(incident.id, title="better title", prompt_id="brand-new").title == "better title"
    with pytest.raises(UnknownPromptError):
        svc.edit(incident.id, prompt_id="brand-new", version=3)
    assert svc.edit(incident.id, prompt_id="brand-new", version=3, new_prompt=True).prompt_version == 3


def test_the_sentinel_cannot_be_registered(prompts):
    from incident_tui.domain.prompts import PromptError

    with pytest.raises(PromptError, match="cannot be registered"):
        prompts.add(UNASSIGNED, "text")
