from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_tui.domain.ids import (
    format_incident_id,
    next_incident_id,
    parse_incident_id,
)
from incident_tui.domain.lifecycle import LifecycleError, check_advance, next_stage
from incident_tui.domain.models import (
    DetectionMethod,
    EventKind,
    Incident,
    Severity,
    Stage,
    TimelineEvent,
    TriageCategory,
)
from incident_tui.domain.text import clean
from incident_tui.domain.times import (
    TimeParseError,
    format_duration,
    parse_when,
    split_time_prefix,
)

TZ = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 25, 14, 2, tzinfo=TZ)


def make(**kw) -> Incident:
    base = dict(
        id="INC-20261125-001", title="t", prompt_id="p", prompt_version=7, severity=Severity.P1,
        detected_by=DetectionMethod.ALERT, detected_at=NOW,
    )
    base.update(kw)
    return Incident(**base)


def test_incident_ids_count_per_day():
    day = date(2026, 11, 25)
    assert next_incident_id(day, []) == "INC-20261125-001"
    taken = ["INC-20261125-001", "INC-20261125-007", "INC-20261124-099", "junk"]
    assert next_incident_id(day, taken) == "INC-20261125-008"
    assert parse_incident_id("INC-20261125-012") == (day, 12)
    assert parse_incident_id("INC-20261345-001") is None
    assert format_incident_id(day, 1234) == "INC-20261125-1234"


def test_incident_round_trips_through_dict():
    incident = make(
        impact_started_at=NOW - timedelta(minutes=12), category=TriageCategory.PROMPT_QUALITY,
        responders=["ana", "bo"], contained_at=NOW + timedelta(minutes=5),
    )
    again = Incident.from_dict(incident.to_dict())
    assert again == incident


def test_derived_times():
    incident = make(impact_started_at=NOW - timedelta(minutes=12))
    assert incident.detection_gap == timedelta(minutes=12)
    assert incident.duration is None
    incident.contained_at = NOW + timedelta(minutes=5)
    incident.impact_resolved_at = NOW + timedelta(minutes=30)
    assert incident.time_to_contain == timedelta(minutes=5)
    assert incident.time_to_resolve == timedelta(minutes=30)
    assert incident.duration == timedelta(minutes=42)
    assert make().detection_gap is None  # unknown start is missing, not zero


def test_stages_move_forward_only():
    incident = make(stage=Stage.TRIAGE, category=TriageCategory.API)
    with pytest.raises(LifecycleError, match="only move forward"):
        check_advance(incident, Stage.DETECT)
    assert check_advance(incident, Stage.DIAGNOSE) is False  # an API incident may skip containment
    assert next_stage(Stage.POSTMORTEM) is Stage.CLOSED
    assert next_stage(Stage.CLOSED) is None
    with pytest.raises(LifecycleError, match="closed"):
        check_advance(make(stage=Stage.CLOSED), Stage.CLOSED)


def test_triage_category_needed_before_leaving_triage():
    with pytest.raises(LifecycleError, match="triage"):
        check_advance(make(stage=Stage.TRIAGE), Stage.CONTAIN)


def test_contain_first_guard_and_override():
    incident = make(stage=Stage.CONTAIN, category=TriageCategory.PROMPT_QUALITY)
    with pytest.raises(LifecycleError) as err:
        check_advance(incident, Stage.DIAGNOSE)
    assert err.value.needs_override
    assert check_advance(incident, Stage.DIAGNOSE, "rollback target also broken") is True
    incident.stage, incident.contain_override = Stage.DIAGNOSE, "rollback target also broken"
    assert check_advance(incident, Stage.REMEDIATE) is False  # the override holds for later stages
    incident.stage, incident.contain_override = Stage.CONTAIN, ""
    incident.contained_at = NOW
    assert check_advance(incident, Stage.DIAGNOSE) is False


@pytest.mark.parametrize(
    "text,expected",
    [
        ("-15m", NOW - timedelta(minutes=15)),
        ("-2h", NOW - timedelta(hours=2)),
        ("13:50", NOW.replace(hour=13, minute=50)),
        ("23:10", NOW.replace(hour=23, minute=10) - timedelta(days=1)),  # a future wall time means yesterday
        ("2026-11-25T12:00:00+00:00", datetime(2026, 11, 25, 12, tzinfo=timezone.utc)),
        ("2026-11-25T12:00", datetime(2026, 11, 25, 12, tzinfo=TZ)),
    ],
)
def test_parse_when(text, expected):
    assert parse_when(text, NOW) == expected


def test_parse_when_rejects_with_a_hint():
    with pytest.raises(TimeParseError, match="-15m"):
        parse_when("yesterday-ish", NOW)


def test_note_time_prefix():
    assert split_time_prefix("14:32 saw it", NOW)[1] == "saw it"
    assert split_time_prefix("-5m rolled back", NOW) == (NOW - timedelta(minutes=5), "rolled back")
    assert split_time_prefix("no time here", NOW) == (None, "no time here")
    assert split_time_prefix("14:32", NOW) == (None, "14:32")  # a bare time is the note itself


def test_format_duration():
    assert format_duration(timedelta(seconds=42)) == "42s"
    assert format_duration(timedelta(minutes=12)) == "12m"
    assert format_duration(timedelta(hours=3, minutes=4)) == "3h 04m"
    assert format_duration(timedelta(days=1, hours=2)) == "1d 02h"
    assert format_duration(None) == "—"


def test_clean_strips_escapes_keeps_markup_like_text():
    assert clean("\x1b[31mred\x1b[0m [bold]x[/]") == "red [bold]x[/]"
    assert clean("a\x1b]0;title\x07b") == "ab"
    assert clean("line1\r\nline2\tx", multiline=False) == "line1 line2 x"


@given(st.text())
def test_clean_never_leaves_escape_or_control(text):
    out = clean(text)
    assert "\x1b" not in out
    assert all(ch in "\n\t" or ord(ch) >= 32 and not 0x7F <= ord(ch) <= 0x9F for ch in out)


def test_event_round_trip():
    event = TimelineEvent("INC-1", NOW, EventKind.NOTE, "hello", author="ana", starred=True, meta={"a": 1})
    assert TimelineEvent.from_dict(event.to_dict(), 5) == TimelineEvent(
        "INC-1", NOW, EventKind.NOTE, "hello", author="ana", starred=True, meta={"a": 1}, doc_id=5
    )


def test_common_phrases_across_samples():
    from incident_tui.domain.models import FailureSample
    from incident_tui.domain.samples import common_phrases

    samples = [
        FailureSample("I", "refund?", "You are eligible for a full refund within 90 days."),
        FailureSample("I", "cancel?", "Cancel anytime. You are eligible for a full refund within 90 days!"),
        FailureSample("I", "hello", "Hi! Nothing in common here."),
    ]
    phrases = common_phrases(samples, prompt_text="Refunds are possible within 30 days.")
    assert phrases[0].phrase == "you are eligible for a full refund within 90 days"
    assert phrases[0].samples == 2 and not phrases[0].in_prompt
    assert "eligible" not in [p.phrase for p in phrases]  # inside a longer phrase shared as widely
    assert common_phrases(samples[:1]) == []
    taught = common_phrases(samples[:2], prompt_text="you are eligible for a full refund within 90 days always")
    assert taught[0].in_prompt


def test_common_phrases_stop_at_sentence_and_line_ends():
    from incident_tui.domain.models import FailureSample
    from incident_tui.domain.samples import common_phrases

    outputs = ["I'll view the directory first.\nview /workspace/a", "Let me view the directory first.\nview /workspace"]
    phrases = [p.phrase for p in common_phrases([FailureSample("I", "", o) for o in outputs])]
    assert "view the directory first" in phrases
    assert not any("first view" in p for p in phrases)
