"""Containment rules (domain.containment): nothing is acted on that the registry does not hold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from incident_tui.domain.containment import (
    ContainmentError,
    UnknownPromptId,
    UnknownVersionNumber,
    change_summary,
    check_prompt_reference,
    check_remediation_version,
    default_target,
    live_version,
    plan_routing,
    rollback_candidates,
    rollback_choices,
    suggest_prompt_ids,
    version_range,
)
from incident_tui.domain.models import ContainmentAction
from incident_tui.domain.prompts import (
    LAST_KNOWN_GOOD,
    PRODUCTION,
    UNASSIGNED,
    LabelMove,
    PromptVersion,
    text_sha256,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
ROLLBACK = ContainmentAction.ROLLBACK
KILL = ContainmentAction.KILL_SWITCH


def versions(n: int, prompt_id: str = "p", same: tuple[int, ...] = ()) -> list[PromptVersion]:
    """v1..vn with distinct texts; versions in ``same`` repeat the text of the one before."""
    out = []
    for number in range(1, n + 1):
        text = f"text {number - 1 if number in same else number}\nshared line\n"
        out.append(PromptVersion(prompt_id, number, text, T0 + timedelta(days=number), "text", text_sha256(text),
                                 note=f"note {number}"))
    return out


def moves(*steps: tuple[str, int], prompt_id: str = "p") -> list[LabelMove]:
    """Label moves one hour apart, in the order given."""
    out, current = [], {}
    for seq, (label, version) in enumerate(steps, start=1):
        out.append(LabelMove(prompt_id, label, version, current.get(label), T0 + timedelta(days=30, hours=seq),
                             "ana", "why", seq=seq))
        current[label] = version
    return out


REGISTRY = {"gemini-system": {1, 2, 3}, "gemini-system-pro": {1}, "support-summary": set(range(1, 8))}


# --- declaring -------------------------------------------------------------------------------


def test_a_typo_is_refused_with_the_closest_ids():
    with pytest.raises(UnknownPromptId) as refused:
        check_prompt_reference("gemini-sytem", 999, REGISTRY)
    assert refused.value.suggestions[0] == "gemini-system"
    assert "did you mean 'gemini-system'" in str(refused.value)
    assert not refused.value.registry_empty


def test_suggestions_ignore_case_and_find_contained_ids():
    assert suggest_prompt_ids("Support-Summary", REGISTRY)[0] == "support-summary"
    assert "support-summary" in suggest_prompt_ids("summary", REGISTRY)
    assert suggest_prompt_ids("zzz", REGISTRY) == []


def test_a_new_prompt_is_accepted_only_when_said_so():
    check_prompt_reference("brand-new", 4, REGISTRY, new_prompt=True)
    with pytest.raises(UnknownPromptId, match="no registered id is close"):
        check_prompt_reference("brand-new", None, REGISTRY)


def test_an_empty_registry_still_asks_and_says_so():
    with pytest.raises(UnknownPromptId) as refused:
        check_prompt_reference("support-summary", None, {})
    assert refused.value.registry_empty and "no prompt is registered yet" in str(refused.value)
    check_prompt_reference("support-summary", 7, {}, new_prompt=True)


def test_an_unknown_version_of_a_known_prompt_is_refused_with_the_range():
    with pytest.raises(UnknownVersionNumber, match=r"support-summary has no version 999 \(it has v1–v7\)"):
        check_prompt_reference("support-summary", 999, REGISTRY)
    with pytest.raises(UnknownVersionNumber):  # new_prompt does not make a known prompt's version exist
        check_prompt_reference("support-summary", 999, REGISTRY, new_prompt=True)
    with pytest.raises(UnknownVersionNumber, match="versions start at 1"):
        check_prompt_reference("support-summary", 0, REGISTRY)
    check_prompt_reference("support-summary", 7, REGISTRY)
    check_prompt_reference("support-summary", None, REGISTRY)


def test_unassigned_takes_no_version():
    check_prompt_reference(UNASSIGNED, None, REGISTRY)
    with pytest.raises(ContainmentError):
        check_prompt_reference(UNASSIGNED, 3, REGISTRY)


def test_version_range():
    assert (version_range({1, 2, 92}), version_range({4}), version_range(set())) == ("v1–v92", "v4", "none")


# --- live and default target -----------------------------------------------------------------


def test_live_is_the_production_label_else_a_registered_declared_version():
    vs = versions(5)
    assert live_version(vs, moves((PRODUCTION, 4)), declared=5) == 4
    assert live_version(vs, [], declared=5) == 5
    assert live_version(vs, [], declared=999) is None  # never guessed
    assert live_version(vs, [], declared=None) is None


def test_default_target_prefers_last_known_good_then_the_replaced_production_version():
    vs = versions(6)
    assert default_target(vs, moves((PRODUCTION, 3), (PRODUCTION, 5)), live=5) == 3
    assert default_target(vs, moves((PRODUCTION, 3), (PRODUCTION, 5), (LAST_KNOWN_GOOD, 2)), live=5) == 2
    assert default_target(vs, [], live=5) == 4  # no history: the newest older version
    assert default_target(vs, [], live=1) is None
    assert default_target(vs, moves((LAST_KNOWN_GOOD, 2)), live=None) == 2
    assert default_target(vs, [], live=None) is None


# --- routing -------------------------------------------------------------------------------


def test_rollback_of_an_unregistered_prompt_is_refused_not_guessed():
    with pytest.raises(ContainmentError, match="^nothing to roll back to: register versions with `incident-tui "
                                               "prompts add|import-git|import-dir`"):
        plan_routing(ROLLBACK, "gemini-sytem", [], [], declared=999)
    with pytest.raises(ContainmentError, match="kill switch has nothing to act on"):
        plan_routing(KILL, "gemini-sytem", [], [], declared=999)


def test_unassigned_incident_is_refused_for_both_actions():
    for action in (ROLLBACK, KILL):
        with pytest.raises(ContainmentError, match="prompt is unassigned: set it first"):
            plan_routing(action, UNASSIGNED, versions(3), [], declared=None)


def test_a_requested_target_must_be_registered_and_not_live():
    vs = versions(70)
    assert plan_routing(ROLLBACK, "p", vs, [], declared=70, requested=68) == (70, 68)
    with pytest.raises(ContainmentError, match=r"p has no version 999 \(it has v1–v70\)"):
        plan_routing(ROLLBACK, "p", vs, [], declared=70, requested=999)
    with pytest.raises(ContainmentError, match="already live"):
        plan_routing(ROLLBACK, "p", vs, [], declared=70, requested=70)
    with pytest.raises(ContainmentError, match="has no version 0"):
        plan_routing(KILL, "p", vs, [], declared=70, requested=0)


def test_rollback_without_a_target_says_why():
    with pytest.raises(ContainmentError, match=r"or name one with --to \(p has no version before v1\)"):
        plan_routing(ROLLBACK, "p", versions(3), [], declared=1)
    with pytest.raises(ContainmentError, match="every version of p before v2 has the same text"):
        plan_routing(ROLLBACK, "p", versions(2, same=(2,)), [], declared=2)
    with pytest.raises(ContainmentError, match="which version of p is live is unknown"):
        plan_routing(ROLLBACK, "p", versions(3), [], declared=None)


def test_kill_switch_routes_to_the_fallback_or_only_disables():
    assert plan_routing(KILL, "p", versions(3), [], declared=3) == (3, 2)
    assert plan_routing(KILL, "p", versions(3), [], declared=1) == (1, None)
    assert plan_routing(KILL, "p", versions(3), [], declared=None) == (None, None)


# --- the picker --------------------------------------------------------------------------------


def test_picker_lists_default_then_earlier_production_newest_first_then_never_deployed():
    vs = versions(8)
    history = moves((PRODUCTION, 2), (PRODUCTION, 4), (PRODUCTION, 3), (PRODUCTION, 5), (PRODUCTION, 7))
    candidates = rollback_candidates(vs, history, live=7)
    assert [c.version for c in candidates] == [5, 3, 4, 2, 8, 6, 1]
    assert candidates[0].default and candidates[0].deployed
    assert [c.deployed for c in candidates] == [True, True, True, True, False, False, False]
    assert candidates[1].live_until < candidates[0].live_until
    assert all(c.version != 7 for c in candidates)


def test_picker_puts_a_last_known_good_default_first():
    vs = versions(6)
    history = moves((PRODUCTION, 3), (PRODUCTION, 4), (PRODUCTION, 6), (LAST_KNOWN_GOOD, 2))
    candidates = rollback_candidates(vs, history, live=6)
    assert [c.version for c in candidates] == [2, 4, 3, 5, 1]
    assert candidates[0].default and candidates[0].last_known_good and not candidates[0].deployed


def test_rollback_choices_refuse_what_cannot_be_chosen():
    with pytest.raises(ContainmentError, match="nothing to roll back to"):
        rollback_choices("p", [], [], declared=3)
    with pytest.raises(ContainmentError, match="nothing to roll back to"):
        rollback_choices("p", versions(1), [], declared=1)
    live, candidates = rollback_choices("p", versions(3), [], declared=None)
    assert live is None and [c.version for c in candidates] == [3, 2, 1]


# --- change size and remediation -----------------------------------------------------------------


def test_change_summary_reads_from_live_to_target():
    live = "a\nb\nc\nnew 1\nnew 2\n"
    target = "a\nb\nc\nold\n"
    # Rolling back removes the two lines the live version added and brings one back.
    assert change_summary(live, target) == "+1 −2 lines"


def test_remediation_version_must_be_registered():
    assert check_remediation_version("p", 8, {7, 8}, "promoted") == 8
    with pytest.raises(ContainmentError, match=r"p has no version 500 \(it has v7–v8\)"):
        check_remediation_version("p", 500, {7, 8}, "promoted")
    with pytest.raises(ContainmentError, match="has no registered version"):
        check_remediation_version("p", 8, set(), "promoted")
    with pytest.raises(ContainmentError, match="which version"):
        check_remediation_version("p", None, {7, 8}, "deployed to staging")
    with pytest.raises(ContainmentError, match="unassigned"):
        check_remediation_version(UNASSIGNED, 1, {1}, "promoted")
