"""Incident metrics across time: how fast we detect, contain and resolve, and what is left to do.

Pure: takes Incident and Postmortem objects, returns plain dataclasses. An incident that
lacks a time (impact start never recorded, not contained yet, impact never marked resolved)
is counted as *missing* for that figure — never as zero, which would flatter the mean.

Times, all measured from the model's own derived properties:
- time to detect  = impact start → detection   (Incident.detection_gap)
- time to contain = detection → containment    (Incident.time_to_contain)
- time to resolve = detection → impact resolved (Incident.time_to_resolve)

The period filter and the weekly buckets use the detection time: detection is always known,
and it is when an incident enters the process.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, cast

from .models import Incident
from .postmortem import ActionItem, Postmortem

METRICS: tuple[str, ...] = ("detect", "contain", "resolve")
METRIC_LABELS: dict[str, str] = {
    "detect": "Time to detect",
    "contain": "Time to contain",
    "resolve": "Time to resolve",
}
UNTRIAGED = "untriaged"
UNASSIGNED = "(unassigned)"



# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricFilter:
    """Which incidents count: prompt id, severity (P1/P2/P3), detection in [since, until)."""

    prompt: str | None = None
    severity: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.prompt, self.severity, self.since, self.until))

    def matches(self, incident: Incident) -> bool:
        """True when ``incident`` passes every filter that is set."""
        if self.prompt is not None and incident.prompt_id != self.prompt:
            return False
        if self.severity is not None and incident.severity.value != self.severity.upper():
            return False
        if self.since is not None and incident.detected_at < self.since:
            return False
        if self.until is not None and incident.detected_at >= self.until:
            return False
        return True

    def describe(self) -> str:
        """"prompt=x severity=P1 since=… until=…", or "all incidents"."""
        parts = []
        if self.prompt is not None:
            parts.append(f"prompt={self.prompt}")
        if self.severity is not None:
            parts.append(f"severity={self.severity.upper()}")
        if self.since is not None:
            parts.append(f"since={self.since.isoformat()}")
        if self.until is not None:
            parts.append(f"until={self.until.isoformat()}")
        return " ".join(parts) or "all incidents"

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "severity": self.severity.upper() if self.severity else None,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


# --- statistics ------------------------------------------------------------------------------


def _secs(delta: timedelta | None) -> float | None:
    return delta.total_seconds() if delta is not None else None


@dataclass(frozen=True)
class TimeStat:
    """Mean and median over the incidents that have the time; ``missing`` counts the others."""

    count: int
    missing: int
    mean: timedelta | None = None
    median: timedelta | None = None
    minimum: timedelta | None = None
    maximum: timedelta | None = None

    @property
    def total(self) -> int:
        return self.count + self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "missing": self.missing,
            "mean_s": _secs(self.mean),
            "median_s": _secs(self.median),
            "min_s": _secs(self.minimum),
            "max_s": _secs(self.maximum),
        }


def summarize(values: Iterable[timedelta | None]) -> TimeStat:
    """Mean, median, min and max of the durations given; None values are counted as missing."""
    present: list[float] = []
    missing = 0
    for value in values:
        if value is None:
            missing += 1
        else:
            present.append(value.total_seconds())
    if not present:
        return TimeStat(0, missing)
    return TimeStat(
        count=len(present),
        missing=missing,
        mean=timedelta(seconds=statistics.fmean(present)),
        median=timedelta(seconds=statistics.median(present)),
        minimum=timedelta(seconds=min(present)),
        maximum=timedelta(seconds=max(present)),
    )


@dataclass(frozen=True)
class IncidentTimes:
    """One incident's three times (None = missing)."""

    incident_id: str
    prompt_id: str
    severity: str
    category: str
    stage: str
    detected_at: datetime
    detect: timedelta | None
    contain: timedelta | None
    resolve: timedelta | None

    def get(self, metric: str) -> timedelta | None:
        return cast("timedelta | None", getattr(self, metric))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.incident_id,
            "prompt_id": self.prompt_id,
            "severity": self.severity,
            "category": self.category,
            "stage": self.stage,
            "detected_at": self.detected_at.isoformat(),
            "time_to_detect_s": _secs(self.detect),
            "time_to_contain_s": _secs(self.contain),
            "time_to_resolve_s": _secs(self.resolve),
        }


def incident_times(incident: Incident) -> IncidentTimes:
    """The three times of one incident, from the model's derived properties."""
    return IncidentTimes(
        incident_id=incident.id,
        prompt_id=incident.prompt_id,
        severity=incident.severity.value,
        category=incident.category.value if incident.category else UNTRIAGED,
        stage=incident.stage.value,
        detected_at=incident.detected_at,
        detect=incident.detection_gap,
        contain=incident.time_to_contain,
        resolve=incident.time_to_resolve,
    )


# --- weekly series ---------------------------------------------------------------------------


def week_start(moment: datetime, tz: tzinfo | None = None) -> date:
    """The Monday of ``moment``'s ISO week, in ``tz`` (default: the moment's own zone)."""
    local = moment.astimezone(tz) if tz is not None else moment
    day = local.date()
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class WeekBucket:
    """One week (Monday ``start``) of incidents detected in it."""

    start: date
    incidents: int
    detect: TimeStat
    contain: TimeStat
    resolve: TimeStat

    def get(self, metric: str) -> TimeStat:
        return cast(TimeStat, getattr(self, metric))

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": self.start.isoformat(),
            "incidents": self.incidents,
            **{metric: self.get(metric).to_dict() for metric in METRICS},
        }


def weekly_series(
    times: Iterable[IncidentTimes],
    *,
    tz: tzinfo | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[WeekBucket]:
    """Consecutive weeks from ``first`` to ``last`` (default: the earliest and latest incident),
    empty weeks included so a chart's x axis is time; a week without a time has None figures."""
    times = list(times)
    by_week: dict[date, list[IncidentTimes]] = {}
    for item in times:
        by_week.setdefault(week_start(item.detected_at, tz), []).append(item)
    if first is None and by_week:
        first = min(by_week)
    if last is None and by_week:
        last = max(by_week)
    if first is None or last is None:
        return []
    first = first - timedelta(days=first.weekday())
    last = last - timedelta(days=last.weekday())
    buckets: list[WeekBucket] = []
    week = first
    while week <= last:
        items = by_week.get(week, [])
        buckets.append(
            WeekBucket(
                start=week,
                incidents=len(items),
                detect=summarize(i.detect for i in items),
                contain=summarize(i.contain for i in items),
                resolve=summarize(i.resolve for i in items),
            )
        )
        week += timedelta(days=7)
    return buckets


# --- action items ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionItemState:
    """An action item reduced to what the metrics need."""

    owner: str
    due: date | None
    status: str
    open: bool
    overdue: bool
    incident_id: str | None = None


@dataclass(frozen=True)
class OwnerActions:
    """Open and overdue action items of one owner."""

    owner: str
    open: int
    overdue: int
    no_due_date: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "open": self.open, "overdue": self.overdue, "no_due_date": self.no_due_date}


def _as_date(value: str) -> date | None:
    """An action item's due date as typed: YYYY-MM-DD (or a full ISO time); None when unreadable."""
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            return None


def action_item_state(item: ActionItem, today: date, incident_id: str | None = None) -> ActionItemState:
    """What the metrics need of an action item of ``incident_id``'s postmortem.

    Open unless its status is finished (ActionStatus.finished); an unreadable or missing due
    date is never overdue; an item with no owner is counted under UNASSIGNED.
    """
    owner = item.owner.strip() or UNASSIGNED
    is_open = not item.status.finished
    due = _as_date(item.due)
    return ActionItemState(
        owner=owner,
        due=due,
        status=item.status.value,
        open=is_open,
        overdue=is_open and due is not None and due < today,
        incident_id=incident_id,
    )


def action_items_by_owner(items: Iterable[ActionItemState]) -> list[OwnerActions]:
    """Owners with open items, most overdue first, then most open, then by name."""
    open_count: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    undated: Counter[str] = Counter()
    for item in items:
        if not item.open:
            continue
        open_count[item.owner] += 1
        if item.overdue:
            overdue[item.owner] += 1
        if item.due is None:
            undated[item.owner] += 1
    rows = [OwnerActions(owner, n, overdue[owner], undated[owner]) for owner, n in open_count.items()]
    rows.sort(key=lambda r: (-r.overdue, -r.open, r.owner.lower()))
    return rows


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsReport:
    """Everything the metrics pane and `incident-tui metrics` show."""

    filters: MetricFilter
    generated_at: datetime
    incident_count: int
    times: dict[str, TimeStat]
    per_prompt: dict[str, int]
    per_category: dict[str, int]
    per_severity: dict[str, int]
    weekly: list[WeekBucket]
    actions: list[OwnerActions]
    incidents: list[IncidentTimes] = field(default_factory=list)

    @property
    def open_actions(self) -> int:
        return sum(r.open for r in self.actions)

    @property
    def overdue_actions(self) -> int:
        return sum(r.overdue for r in self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "filters": self.filters.to_dict(),
            "incidents": self.incident_count,
            "times": {metric: self.times[metric].to_dict() for metric in METRICS},
            "per_prompt": dict(self.per_prompt),
            "per_category": dict(self.per_category),
            "per_severity": dict(self.per_severity),
            "weekly": [w.to_dict() for w in self.weekly],
            "action_items": {
                "open": self.open_actions,
                "overdue": self.overdue_actions,
                "by_owner": [r.to_dict() for r in self.actions],
            },
            "per_incident": [i.to_dict() for i in self.incidents],
        }


def _counts(values: Iterable[str]) -> dict[str, int]:
    counter = Counter(values)
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def compute_metrics(
    incidents: Iterable[Incident],
    postmortems: Iterable[Postmortem] = (),
    *,
    now: datetime,
    filters: MetricFilter | None = None,
) -> MetricsReport:
    """Figures for the incidents that pass ``filters``, weeks in ``now``'s time zone.

    The action items are those of ``postmortems``. With a filter set, items of other
    incidents are left out; without one, every item counts.
    """
    filters = filters or MetricFilter()
    tz = now.tzinfo
    chosen = [i for i in incidents if filters.matches(i)]
    chosen.sort(key=lambda i: (i.detected_at, i.id))
    times = [incident_times(i) for i in chosen]
    first = week_start(filters.since, tz) if filters.since is not None else None
    last = week_start(min(filters.until - timedelta(microseconds=1), now), tz) if filters.until is not None else None
    if last is None and (times or first is not None):
        # Run the series up to this week, so recent quiet weeks show as quiet.
        last = max([week_start(now, tz)] + [week_start(t.detected_at, tz) for t in times[-1:]])
    weekly = weekly_series(times, tz=tz, first=first, last=last) if times or first is not None else []

    today = now.astimezone(tz).date()
    ids = {i.id for i in chosen}
    states = [action_item_state(item, today, pm.incident_id) for pm in postmortems for item in pm.action_items]
    if filters.active:
        states = [s for s in states if s.incident_id in ids]

    return MetricsReport(
        filters=filters,
        generated_at=now,
        incident_count=len(chosen),
        times={metric: summarize(t.get(metric) for t in times) for metric in METRICS},
        per_prompt=_counts(i.prompt_id for i in chosen),
        per_category=_counts(t.category for t in times),
        per_severity={s: n for s, n in sorted(Counter(i.severity.value for i in chosen).items())},
        weekly=weekly,
        actions=action_items_by_owner(states),
        incidents=times,
    )
