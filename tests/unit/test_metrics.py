"""Metrics arithmetic: mean and median, missing times, filters, weekly series, action items."""

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_tui.domain.metrics import (
    UNASSIGNED,
    MetricFilter,
    action_item_state,
    action_items_by_owner,
    compute_metrics,
    incident_times,
    summarize,
    week_start,
    weekly_series,
)
from incident_tui.domain.models import (
    DetectionMethod,
    Incident,
    Severity,
    Stage,
    TriageCategory,
)
from incident_tui.domain.postmortem import ActionItem, ActionStatus, Postmortem
from incident_tui.services.metrics import MetricsService

TZ = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=TZ)  # a Wednesday
M = timedelta(minutes=1)


def make(n, *, detected, gap=None, contain=None, resolve=None, prompt="support-summary", severity="P1",
         category=None, stage=Stage.DETECT):
    return Incident(
        id=f"INC-{detected:%Y%m%d}-{n:03d}",
        title="t",
        prompt_id=prompt,
        prompt_version=7,
        severity=Severity(severity),
        detected_by=DetectionMethod.ALERT,
        detected_at=detected,
        impact_started_at=detected - gap if gap is not None else None,
        contained_at=detected + contain if contain is not None else None,
        impact_resolved_at=detected + resolve if resolve is not None else None,
        category=TriageCategory(category) if category else None,
        stage=stage,
    )


# --- summarize -------------------------------------------------------------------------------


def test_summarize_counts_none_as_missing_never_zero():
    stat = summarize([10 * M, None, 20 * M, None, 60 * M])
    assert (stat.count, stat.missing, stat.total) == (3, 2, 5)
    assert stat.mean == 30 * M  # (10 + 20 + 60) / 3, not / 5
    assert stat.median == 20 * M
    assert (stat.minimum, stat.maximum) == (10 * M, 60 * M)


def test_summarize_even_count_median_is_the_midpoint():
    assert summarize([10 * M, 20 * M, 30 * M, 100 * M]).median == 25 * M


def test_summarize_all_missing_or_empty():
    assert summarize([None, None]) == summarize([]).__class__(0, 2)
    stat = summarize([])
    assert stat.mean is None and stat.median is None and stat.count == 0 and stat.missing == 0
    assert stat.to_dict() == {"count": 0, "missing": 0, "mean_s": None, "median_s": None, "min_s": None, "max_s": None}


@given(st.lists(st.none() | st.integers(0, 10**7).map(lambda s: timedelta(seconds=s)), max_size=40))
def test_summarize_properties(values):
    stat = summarize(values)
    assert stat.count + stat.missing == len(values)
    assert stat.missing == sum(v is None for v in values)
    if stat.count:
        assert stat.minimum <= stat.median <= stat.maximum
        assert stat.minimum - timedelta(microseconds=1) <= stat.mean <= stat.maximum + timedelta(microseconds=1)
    else:
        assert stat.mean is None and stat.median is None


# --- per incident and across incidents -------------------------------------------------------


def sample():
    day = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)  # Monday of week 47
    return [
        make(1, detected=day, gap=12 * M, contain=5 * M, resolve=60 * M, category="prompt-quality"),
        make(2, detected=day + timedelta(days=2), gap=30 * M, contain=15 * M, category="prompt-quality"),
        make(3, detected=day + timedelta(days=8), contain=40 * M, resolve=120 * M, prompt="faq-answer",
             severity="P3", category="api"),
        make(4, detected=day + timedelta(days=9), prompt="faq-answer", severity="P2"),  # nothing known yet
    ]


def test_incident_times_come_from_the_model():
    times = incident_times(sample()[0])
    assert (times.detect, times.contain, times.resolve) == (12 * M, 5 * M, 60 * M)
    untouched = incident_times(sample()[3])
    assert (untouched.detect, untouched.contain, untouched.resolve) == (None, None, None)
    assert untouched.category == "untriaged"


def test_report_across_incidents():
    report = compute_metrics(sample(), now=NOW)
    assert report.incident_count == 4
    detect, contain, resolve = (report.times[m] for m in ("detect", "contain", "resolve"))
    assert (detect.count, detect.missing, detect.mean, detect.median) == (2, 2, 21 * M, 21 * M)
    assert (contain.count, contain.missing, contain.mean, contain.median) == (3, 1, 20 * M, 15 * M)
    assert (resolve.count, resolve.missing, resolve.mean, resolve.median) == (2, 2, 90 * M, 90 * M)
    assert report.per_prompt == {"faq-answer": 2, "support-summary": 2}
    assert report.per_category == {"prompt-quality": 2, "api": 1, "untriaged": 1}
    assert report.per_severity == {"P1": 2, "P2": 1, "P3": 1}
    data = json.loads(json.dumps(report.to_dict()))
    assert data["times"]["contain"]["median_s"] == 900 and data["times"]["detect"]["missing"] == 2
    assert [i["id"] for i in data["per_incident"]][0] == "INC-20261116-001"


def test_filters_prompt_severity_and_period():
    incidents = sample()
    by_prompt = compute_metrics(incidents, now=NOW, filters=MetricFilter(prompt="faq-answer"))
    assert by_prompt.incident_count == 2 and by_prompt.times["detect"].missing == 2
    assert by_prompt.times["detect"].mean is None
    assert compute_metrics(incidents, now=NOW, filters=MetricFilter(severity="p1")).incident_count == 2
    # since is inclusive, until exclusive, both on the detection time
    since = incidents[1].detected_at
    window = compute_metrics(incidents, now=NOW, filters=MetricFilter(since=since, until=incidents[3].detected_at))
    assert [i.incident_id for i in window.incidents] == ["INC-20261118-002", "INC-20261124-003"]
    assert MetricFilter(prompt="x", severity="p2").describe() == "prompt=x severity=P2"
    assert MetricFilter().describe() == "all incidents" and not MetricFilter().active


def test_weekly_series_is_continuous_up_to_now():
    report = compute_metrics(sample(), now=NOW + timedelta(days=14))
    weeks = [(w.start, w.incidents) for w in report.weekly]
    assert weeks == [
        (date(2026, 11, 16), 2),
        (date(2026, 11, 23), 2),
        (date(2026, 11, 30), 0),
        (date(2026, 12, 7), 0),
    ]
    first, second, quiet = report.weekly[:3]
    assert first.contain.median == 10 * M and first.detect.count == 2
    assert second.contain.median == 40 * M and second.contain.missing == 1
    assert quiet.contain.median is None and quiet.contain.count == 0  # no data, not zero
    assert report.weekly[0].to_dict()["week"] == "2026-11-16"


def test_weekly_series_follows_the_period_filter():
    since = datetime(2026, 11, 2, tzinfo=TZ)
    until = datetime(2026, 11, 20, tzinfo=TZ)
    report = compute_metrics(sample(), now=NOW, filters=MetricFilter(since=since, until=until))
    assert [w.start for w in report.weekly] == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    assert compute_metrics([], now=NOW).weekly == []


def test_week_buckets_use_the_local_zone():
    # Monday 00:30 at +01:00 is still Sunday in UTC: it belongs to the local Monday's week.
    moment = datetime(2026, 11, 23, 0, 30, tzinfo=TZ)
    assert week_start(moment, TZ) == date(2026, 11, 23)
    assert week_start(moment, timezone.utc) == date(2026, 11, 16)
    series = weekly_series([incident_times(make(1, detected=moment))], tz=TZ)
    assert [w.start for w in series] == [date(2026, 11, 23)]


# --- action items ------------------------------------------------------------------------------


def item(owner="ana", due="", status=ActionStatus.OPEN):
    return ActionItem(text="x", owner=owner, due=due, status=status)


def test_action_item_states():
    today = date(2026, 11, 25)
    assert action_item_state(item(due="2026-11-24"), today).overdue
    assert not action_item_state(item(due="2026-11-25"), today).overdue  # due today
    assert not action_item_state(item(due="2026-11-01", status=ActionStatus.DONE), today).open
    assert not action_item_state(item(due="2026-11-01", status=ActionStatus.WONT_DO), today).open
    in_progress = action_item_state(item(due="2026-11-01", status=ActionStatus.IN_PROGRESS), today)
    assert in_progress.open and in_progress.overdue and in_progress.status == "in-progress"
    assert action_item_state(item(), today).open  # no due date: open, never overdue
    bad_due = action_item_state(item(owner="bo", due="someday"), today)
    assert bad_due.open and not bad_due.overdue and bad_due.due is None
    assert action_item_state(item(owner="  "), today).owner == UNASSIGNED
    assert action_item_state(item(owner="d", due="2026-11-20T12:00:00+01:00"), today).overdue
    assert action_item_state(item(), today, "INC-20261124-001").incident_id == "INC-20261124-001"


def test_every_action_status_is_open_or_finished():
    assert {s for s in ActionStatus if s.finished} == {ActionStatus.DONE, ActionStatus.WONT_DO}


def test_action_items_by_owner_sorted_most_overdue_first():
    today = date(2026, 11, 25)
    items = [
        item("ana", "2026-12-01"),
        item("ana", "2026-12-02", ActionStatus.IN_PROGRESS),
        item("bo", "2026-11-01"),
        item("bo", ""),
        item("cy", "2026-11-01", ActionStatus.DONE),
    ]
    rows = action_items_by_owner(action_item_state(i, today) for i in items)
    assert [(r.owner, r.open, r.overdue, r.no_due_date) for r in rows] == [("bo", 2, 1, 1), ("ana", 2, 0, 0)]


def test_action_items_follow_the_incident_filter():
    incidents = sample()
    postmortems = [
        Postmortem(incidents[0].id, action_items=[item("ana", "2026-11-01")]),
        Postmortem(incidents[2].id, action_items=[item("bo", "2026-11-01")]),
        Postmortem("INC-20200101-001", action_items=[item("cy", "2026-11-01")]),  # an incident not shown
    ]
    everything = compute_metrics(incidents, postmortems, now=NOW)
    assert [r.owner for r in everything.actions] == ["ana", "bo", "cy"]
    assert everything.open_actions == 3 and everything.overdue_actions == 3
    faq = compute_metrics(incidents, postmortems, now=NOW, filters=MetricFilter(prompt="faq-answer"))
    assert [r.owner for r in faq.actions] == ["bo"]


# --- the service reads the store defensively ---------------------------------------------------


def test_service_reads_incidents_and_postmortem_action_items(db):
    for incident in sample():
        db.table("incidents").insert(incident.to_dict())
    db.table("incidents").insert({"id": "INC-broken", "title": "no severity"})
    pm = db.table("postmortems")
    pm.insert({"incident_id": "INC-20261116-001",
               "action_items": [{"owner": "ana", "due": "2026-11-20", "status": "open"}]})
    pm.insert({"incident_id": "INC-20261124-003", "action_items": [{"owner": "bo", "status": "finished?"}]})
    pm.insert({"something": "else"})
    service = MetricsService(db, clock=lambda: NOW)
    report = service.report()
    # One incident and two postmortems cannot be read: counted, never fatal.
    assert report.incident_count == 4 and service.skipped == 3
    assert [(r.owner, r.open, r.overdue) for r in report.actions] == [("ana", 1, 1)]
    assert [p.incident_id for p in service.postmortems()] == ["INC-20261116-001"]


def test_service_without_postmortems_table(db):
    report = MetricsService(db, clock=lambda: NOW).report(MetricFilter(prompt="nothing"))
    assert report.incident_count == 0 and report.actions == [] and report.weekly == []


@pytest.mark.parametrize("metric", ["detect", "contain", "resolve"])
def test_a_single_incident_is_its_own_mean_and_median(metric):
    incident = make(1, detected=NOW - timedelta(days=1), gap=7 * M, contain=7 * M, resolve=7 * M)
    stat = compute_metrics([incident], now=NOW).times[metric]
    assert stat.mean == stat.median == 7 * M and stat.missing == 0


def test_action_items_written_by_the_postmortem_service(db):
    """The real writer, so a change in its stored shape shows up here."""
    postmortem = pytest.importorskip("incident_tui.services.postmortem")
    from incident_tui.domain.postmortem import ActionItem as RealActionItem
    from incident_tui.domain.postmortem import ActionStatus
    from incident_tui.services.incidents import IncidentService

    incidents = IncidentService(db, clock=lambda: NOW)
    incident = incidents.declare(title="t", prompt_id="support-summary", severity="P1", detected_by="alert",
                                 new_prompt=True)
    service = postmortem.PostmortemService(db, incidents)
    service.add_action(incident.id, RealActionItem(text="eval gate", owner="ana", due="2026-11-20"))
    service.add_action(incident.id, RealActionItem(text="alert", owner="bo", due="2026-12-20"))
    service.add_action(incident.id, RealActionItem(text="done", owner="bo", due="2026-11-01",
                                                   status=ActionStatus.DONE))
    service.add_action(incident.id, RealActionItem(text="dropped", owner="cy", due="2026-11-01",
                                                   status=ActionStatus.WONT_DO))
    report = MetricsService(db, clock=lambda: NOW).report(MetricFilter(prompt="support-summary"))
    assert [(r.owner, r.open, r.overdue) for r in report.actions] == [("ana", 1, 1), ("bo", 1, 0)]
