"""The postmortem's domain: template order, prefill, edit tracking, lint, checklist and progress."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_tui.domain.models import (
    ContainmentAction,
    DetectionMethod,
    EventKind,
    Incident,
    Severity,
    TimelineEvent,
)
from incident_tui.domain.postmortem import (
    CHECKS,
    ERROR,
    FIELDS,
    SECTION_KEYS,
    SECTIONS,
    WARNING,
    ActionItem,
    ActionKind,
    DocStatus,
    Postmortem,
    checklist,
    count_sentences,
    filled,
    lint,
    prefill,
    progress,
    section_complete,
    still_empty,
    timeline_lines,
    vague_phrase,
)

TZ = timezone(timedelta(hours=1))
T0 = datetime(2026, 11, 25, 14, 2, tzinfo=TZ)
GOOD_CAUSE = "v7 removed the refund-policy paragraph, so the model filled the gap from its prior and invented refunds"


def incident(**kw) -> Incident:
    base = dict(
        id="INC-20261125-001", title="Summaries invent refunds", prompt_id="support-summary", prompt_version=7,
        severity=Severity.P1, detected_by=DetectionMethod.ALERT, detected_at=T0,
        impact_started_at=T0 - timedelta(minutes=12), commander="ana", scribe="bo", responders=["chen", "ana"],
    )
    base.update(kw)
    return Incident(**base)


def event(minutes: int, kind: EventKind, text: str, **kw) -> TimelineEvent:
    return TimelineEvent("INC-20261125-001", T0 + timedelta(minutes=minutes), kind, text, **kw)


def complete_pm() -> Postmortem:
    pm = Postmortem("INC-20261125-001")
    pm.with_prefill(prefill(incident(impact_resolved_at=T0 + timedelta(minutes=30)), []))
    pm.fields.update(
        summary="Summaries invented refunds for 42 minutes. 3% of EU tickets were affected. We rolled back to v6.",
        root_cause=GOOD_CAUSE,
        detection_why="The hallucination alert only looks at a 10 minute window.",
        review_date="2026-12-02",
        trigger="Deploy of v7", resolution="Rolled back", impact_requests="1,200 (3%)", impact_segments="EU",
        impact_business="Refund costs", went_well="Fast rollback", went_badly="Slow paging", lucky="Quiet day",
        timeline="2026-11-25T14:02+01:00 — Detection",
    )
    pm.edited |= {"summary", "root_cause", "detection_why", "review_date"}
    pm.contributing_factors = ["No eval on refund questions"]
    pm.action_items = [
        ActionItem("Add refund eval", "ana", "2026-12-09", ActionKind.PREVENTS_RECURRENCE),
        ActionItem("Alert on 5 min window", "bo", "2026-12-09", ActionKind.IMPROVES_DETECTION),
        ActionItem("Rollback runbook", "chen", "2026-12-09", ActionKind.IMPROVES_RESPONSE),
    ]
    return pm


# --- the template ----------------------------------------------------------------------------


def test_sections_follow_the_template_order():
    titles = [s.title for s in SECTIONS]
    assert titles[:10] == [
        "HEADER", "SUMMARY", "TIMELINE", "ROOT CAUSE", "DETECTION GAP", "USER IMPACT", "CONTRIBUTING FACTORS",
        "ACTION ITEMS", "WHAT WENT WELL", "WHAT DIDN'T GO WELL",
    ]
    header = [f.label for f in SECTIONS[0].fields]
    assert header[:9] == [
        "Incident ID", "Prompt ID", "Prompt version at time of incident", "Date/Time start", "Date/Time end",
        "Duration", "Severity", "Prepared by", "Review date",
    ]
    # Google SRE extras are there too.
    assert {"trigger", "resolution", "lucky", "authors", "status"} <= set(FIELDS)
    assert "not \"the prompt was bad\"" in SECTIONS[3].guidance
    assert all(s.guidance for s in SECTIONS)


# --- prefill -----------------------------------------------------------------------------------


def test_prefill_computes_the_incident_facts():
    inc = incident(
        contained_at=T0 + timedelta(minutes=5), containment=ContainmentAction.ROLLBACK, routed_to_version=6,
        impact_resolved_at=T0 + timedelta(minutes=30), root_cause=GOOD_CAUSE,
    )
    values = prefill(inc, [])
    assert values["incident_id"] == "INC-20261125-001"
    assert values["prompt_id"] == "support-summary"
    assert values["prompt_version"] == "v7"
    assert values["started_at"] == "2026-11-25T13:50+01:00"
    assert values["ended_at"] == "2026-11-25T14:32+01:00"
    assert values["duration"] == "42m"
    assert values["severity"] == "P1"
    assert values["detection_gap"] == "12m"
    assert values["detection_method"] == "alert"
    assert values["prepared_by"] == "bo"
    assert values["authors"] == "ana, bo, chen"
    assert values["root_cause"] == GOOD_CAUSE
    assert values["resolution"].startswith("Rolled back to v6 at 2026-11-25T14:07+01:00.")


def test_unknown_facts_prefill_empty_not_zero():
    values = prefill(incident(impact_started_at=None, prompt_version=None), [])
    assert values["detection_gap"] == ""  # unknown start: lint asks for it
    assert values["ended_at"] == values["duration"] == ""
    assert values["prompt_version"] == ""


def test_timeline_keeps_milestones_and_starred_notes_only():
    events = [
        event(-12, EventKind.IMPACT_START, "Impact start", backdated=True),
        event(0, EventKind.DETECTION, "Detection: alert fired"),
        event(1, EventKind.STAGE, "Stage detect → triage"),
        event(2, EventKind.NOTE, "CS escalations spiking in EU", author="ana", starred=True),
        event(3, EventKind.NOTE, "getting coffee", author="bo"),
        event(4, EventKind.HOOK, "Hook failed (1.0 s): rollback.sh exit 1", meta={"ok": False}),
        event(4, EventKind.HOOK, "Hook ok (0.4 s): rollback.sh exit 0", meta={"ok": True}),
        event(5, EventKind.CONTAINMENT, "Rollback executed. Traffic routed to support-summary v6 (from v7)"),
        event(6, EventKind.EDIT, "Title changed: a → b"),
        event(7, EventKind.SAMPLE, "Failure sample added", starred=True),
        event(30, EventKind.MILESTONE, "User impact resolved"),
    ]
    assert timeline_lines(reversed(events)) == [
        "2026-11-25T13:50+01:00 — Impact start",
        "2026-11-25T14:02+01:00 — Detection: alert fired",
        "2026-11-25T14:04+01:00 — ana: CS escalations spiking in EU",
        "2026-11-25T14:06+01:00 — Hook failed (1.0 s): rollback.sh exit 1",
        "2026-11-25T14:07+01:00 — Rollback executed. Traffic routed to support-summary v6 (from v7)",
        "2026-11-25T14:09+01:00 — Failure sample added",
        "2026-11-25T14:32+01:00 — User impact resolved",
    ]


def test_a_multiline_note_stays_one_timeline_line():
    lines = timeline_lines([event(0, EventKind.NOTE, "first\nsecond", starred=True)])
    assert lines == ["2026-11-25T14:02+01:00 — first second"]


def test_prefill_follows_the_incident_until_a_field_is_edited():
    pm = Postmortem("INC-20261125-001").with_prefill(prefill(incident(), []))
    assert pm.get("severity") == "P1"
    pm.fields["severity"] = "P2"
    pm.edited.add("severity")
    pm.with_prefill(prefill(incident(severity=Severity.P3, prompt_version=8), []))
    assert pm.get("severity") == "P2"  # the user's value wins
    assert pm.get("prompt_version") == "v8"  # untouched fields follow the incident


def test_round_trip_keeps_only_what_the_user_set():
    pm = complete_pm()
    pm.waivers[ActionKind.IMPROVES_RESPONSE] = "process is new"
    pm.status = DocStatus.IN_REVIEW
    data = pm.to_dict()
    assert "incident_id" not in data["fields"] and "summary" in data["fields"]
    again = Postmortem.from_dict(data)
    assert again.edited == pm.edited
    assert again.action_items == pm.action_items
    assert again.waivers == pm.waivers and again.status is DocStatus.IN_REVIEW
    assert again.get("summary") == pm.get("summary")


def test_from_dict_drops_unknown_fields_and_kinds():
    pm = Postmortem.from_dict(
        {"incident_id": "INC-1", "fields": {"summary": "x", "bogus": "y"}, "waivers": {"future-kind": "z"}}
    )
    assert pm.fields == {"summary": "x"} and pm.waivers == {}


# --- lint ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("", 0),
        ("One sentence.", 1),
        ("One. Two.", 2),
        ("Rolled back to v4.2 quickly. Users saw junk, e.g. fake refunds. Fixed!", 3),
        ("No final stop here. And here", 2),
        ("A. B. C. D.", 4),
        ("Did it work? Yes!", 2),
        ('He said "stop." Then left.', 2),
    ],
)
def test_sentence_count(text, n):
    assert count_sentences(text) == n


@given(st.text())
def test_sentence_count_never_fails(text):
    assert count_sentences(text) >= 0


def findings_for(pm, field):
    return [f for f in lint(pm) if f.field == field]


def test_a_complete_postmortem_lints_clean():
    pm = complete_pm()
    assert lint(pm) == []
    assert all(item.ok for item in checklist(pm))
    assert progress(pm) == (len(SECTIONS), len(SECTIONS))


def test_summary_must_be_two_or_three_sentences():
    pm = complete_pm()
    pm.fields["summary"] = "It broke."
    (finding,) = findings_for(pm, "summary")
    assert finding.level == ERROR and "1 sentence" in finding.message
    pm.fields["summary"] = "A. B. C. D."
    assert "4 sentences" in findings_for(pm, "summary")[0].message
    pm.fields["summary"] = ""
    assert findings_for(pm, "summary")[0].level == ERROR


@pytest.mark.parametrize(
    "cause",
    [
        "The prompt was bad.",
        "the prompt was just wrong",
        "Bad prompt",
        "The model got worse",
        "Something changed upstream",
        "Human error",
        "Output quality dropped",
        "unknown",
        "TBD",
    ],
)
def test_vague_root_causes_are_flagged(cause):
    pm = complete_pm()
    pm.fields["root_cause"] = cause
    (finding,) = findings_for(pm, "root_cause")
    assert finding.level == ERROR and "vague" in finding.message.lower()
    assert vague_phrase(cause)


def test_root_cause_must_name_what_changed_and_should_say_why():
    pm = complete_pm()
    pm.fields["root_cause"] = "The model invents refunds when asked about policy"
    messages = [(f.level, f.message) for f in findings_for(pm, "root_cause")]
    assert (ERROR, "Name what changed: the version, the instruction, the data or the model") in messages
    assert any(level == WARNING and "why" in msg for level, msg in messages)
    pm.fields["root_cause"] = "v7 dropped the refund-policy paragraph"
    assert [f.level for f in findings_for(pm, "root_cause")] == [WARNING]  # names the change, not the why
    pm.fields["root_cause"] = GOOD_CAUSE
    assert findings_for(pm, "root_cause") == []


def test_every_action_item_needs_owner_and_due_date():
    pm = complete_pm()
    pm.action_items[1].owner = " "
    pm.action_items[2].due = "next week"
    fields = {f.field: f for f in lint(pm)}
    assert fields["action_items.2.owner"].message == "Action 2 has no owner"
    assert "not YYYY-MM-DD" in fields["action_items.3.due"].message
    assert {f.check for f in fields.values()} == {"owners"}
    pm.action_items = []
    assert any(f.field == "action_items" and f.check == "owners" for f in lint(pm))


def test_the_three_kinds_are_covered_or_waived():
    pm = complete_pm()
    pm.action_items[2].kind = ActionKind.PREVENTS_RECURRENCE
    (finding,) = [f for f in lint(pm) if f.check == "kinds"]
    assert "improves response process" in finding.message
    pm.waivers[ActionKind.IMPROVES_RESPONSE] = "  "
    assert [f for f in lint(pm) if f.check == "kinds"]  # a blank reason is no waiver
    pm.waivers[ActionKind.IMPROVES_RESPONSE] = "the response went by the book"
    assert lint(pm) == []


def test_detection_gap_and_review_date():
    pm = complete_pm()
    pm.fields.update(detection_gap="", review_date="soon", detection_why="")
    by_field = {f.field: f for f in lint(pm)}
    assert by_field["detection_gap"].level == ERROR
    assert by_field["detection_why"].level == WARNING
    assert "not YYYY-MM-DD" in by_field["review_date"].message
    pm.fields["review_date"] = ""
    assert findings_for(pm, "review_date")[0].message == "Set a review date"


def test_checklist_names_each_failing_check():
    pm = Postmortem("INC-1")
    items = checklist(pm)
    assert [i.key for i in items] == [key for key, _, _ in CHECKS]
    assert not any(i.ok for i in items)
    assert "Set a review date" in next(i for i in items if i.key == "review-date").problems


def test_warnings_do_not_fail_the_checklist():
    pm = complete_pm()
    pm.fields["detection_why"] = ""
    assert all(i.ok for i in checklist(pm))


def test_progress_counts_complete_sections():
    pm = Postmortem("INC-1").with_prefill(prefill(incident(), []))
    done, total = progress(pm)
    assert total == len(SECTION_KEYS) == 11
    assert done == 0  # even the header needs an end time, who prepared it and a review date
    pm.fields["summary"] = "One sentence only."
    assert not section_complete(pm, "summary")  # filled but failing lint is not complete
    pm.fields["summary"] = "It broke. We fixed it."
    assert section_complete(pm, "summary")
    assert progress(pm)[0] == 1


@given(st.text(), st.text(), st.text())
def test_lint_never_fails_on_any_text(summary, cause, due):
    pm = complete_pm()
    pm.fields.update(summary=summary, root_cause=cause, review_date=due)
    pm.action_items[0].due = due
    for finding in lint(pm):
        assert finding.level in (ERROR, WARNING) and finding.message


# --- one definition of "filled" ---------------------------------------------------------------

_BLANKS = st.sampled_from(["", " ", "\n\t ", "\u3000"])
_TEXT = st.one_of(_BLANKS, st.text(max_size=40), st.sampled_from(["25m", "alert", "2026-12-02", GOOD_CAUSE,
                                                                 "It broke. We fixed it."]))


@st.composite
def postmortems(draw) -> Postmortem:
    """Any mix of empty, blank, bad and good values, lists and waivers, from a complete document."""
    pm = complete_pm()
    for key in FIELDS:
        if FIELDS[key].kind in ("line", "prose") and draw(st.booleans()):
            pm.fields[key] = draw(_TEXT)
    if draw(st.booleans()):
        pm.contributing_factors = draw(st.lists(_TEXT, max_size=2))
    if draw(st.booleans()):
        pm.action_items = pm.action_items[: draw(st.integers(0, 3))]
        for item in pm.action_items:
            item.owner, item.due = draw(_TEXT), draw(_TEXT)
    if draw(st.booleans()):
        pm.waivers = {ActionKind.IMPROVES_RESPONSE: draw(_TEXT)}
    return pm


@given(postmortems())
def test_the_checklist_never_contradicts_itself(pm):
    items = checklist(pm)
    empty = {spec.key for _, spec in still_empty(pm)}
    for item in items:
        if item.ok:
            # A ✓ line claims its fields are filled: none of them may be listed as still empty.
            assert not set(item.fields) & empty, (item.label, set(item.fields) & empty)
            assert not item.problems
        else:
            assert item.problems or not all(filled(pm, f) for f in item.fields)
    for spec in SECTIONS:
        complete = section_complete(pm, spec.key)
        # A complete section has no empty required field and no failing check about its fields...
        if complete:
            assert not {f.key for f in spec.fields} & empty
            assert all(i.ok for i in items if set(i.fields) & set(spec.keys))
        # ...and a section with a failing check is never shown as complete.
        if any(not i.ok for i in items if set(i.fields) & set(spec.keys)):
            assert not complete


def test_detection_gap_filled_but_why_empty_is_said_without_contradiction():
    """The reported case: "✓ Detection gap filled" beside "! Still empty … DETECTION GAP"."""
    pm = complete_pm()
    pm.fields["detection_why"] = ""
    detection = next(i for i in checklist(pm) if i.key == "detection")
    assert detection.ok and detection.fields == ("detection_gap", "detection_method")
    assert [(title, spec.key) for title, spec in still_empty(pm)] == [("DETECTION GAP", "detection_why")]
    assert not section_complete(pm, "detection")
    pm.fields["detection_gap"] = " "
    detection = next(i for i in checklist(pm) if i.key == "detection")
    assert not detection.ok and not filled(pm, "detection_gap")
