"""The incident's nouns: plain dataclasses that know how to become dicts and back.

Times are timezone-aware datetimes in memory and ISO 8601 strings with an offset on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import Enum
from collections.abc import Mapping
from typing import Any, TypeVar


class Severity(str, Enum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        return int(self.value[1])

    @property
    def description(self) -> str:
        """What the severity means, for a picker."""
        return {"P1": "major user impact", "P2": "degraded", "P3": "minor"}[self.value]


class DetectionMethod(str, Enum):
    ALERT = "alert"
    USER_REPORT = "user-report"
    DOWNSTREAM = "downstream"
    MANUAL = "manual"

    @property
    def label(self) -> str:
        """The postmortem template's words for the method."""
        return {
            "alert": "alert",
            "user-report": "user report",
            "downstream": "downstream system",
            "manual": "manual discovery",
        }[self.value]


class Stage(str, Enum):
    DETECT = "detect"
    TRIAGE = "triage"
    CONTAIN = "contain"
    DIAGNOSE = "diagnose"
    REMEDIATE = "remediate"
    POSTMORTEM = "postmortem"
    CLOSED = "closed"

    @property
    def index(self) -> int:  # type: ignore[override]  # a stage's place in the order; str.index is not used on stages
        return STAGE_ORDER.index(self)


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class TriageCategory(str, Enum):
    PROMPT_QUALITY = "prompt-quality"
    API = "api"
    UPSTREAM_DATA = "upstream-data"
    MODEL_BEHAVIOUR = "model-behaviour"

    @property
    def label(self) -> str:
        return {
            "prompt-quality": "prompt quality",
            "api": "API",
            "upstream-data": "upstream data",
            "model-behaviour": "model behaviour",
        }[self.value]


class EventKind(str, Enum):
    """What stamped a timeline event. Everything but NOTE is written by the app."""

    DETECTION = "detection"
    IMPACT_START = "impact-start"
    STAGE = "stage"
    TRIAGE = "triage"
    CONTAINMENT = "containment"
    HOOK = "hook"
    MILESTONE = "milestone"
    OVERRIDE = "override"
    EDIT = "edit"
    SAMPLE = "sample"
    ALERT = "alert"
    CHANGE = "change"  # a recorded change linked as a suspect
    NOTE = "note"

    @property
    def manual(self) -> bool:
        return self is EventKind.NOTE


class ContainmentAction(str, Enum):
    KILL_SWITCH = "kill-switch"
    ROLLBACK = "rollback"


class Milestone(str, Enum):
    """What a responder stamps on the way to the end of an incident, in that order."""

    IMPACT_RESOLVED = "impact-resolved"
    ROOT_CAUSE = "root-cause"
    STAGING = "staging"
    PROMOTED = "promoted"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "impact-resolved": "User impact resolved",
            "root-cause": "Root cause confirmed",
            "staging": "Remediation deployed to staging",
            "promoted": "Remediation validated and promoted to production",
            "closed": "Close the incident",
        }[self.value]


def to_iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


E = TypeVar("E", bound=Enum)


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class Incident:
    """One incident, with every fact the lifecycle and the postmortem need."""

    id: str
    title: str
    prompt_id: str
    prompt_version: int | None
    severity: Severity
    detected_by: DetectionMethod
    detected_at: datetime
    impact_started_at: datetime | None = None
    stage: Stage = Stage.DETECT
    category: TriageCategory | None = None
    hypothesis: str = ""
    commander: str = ""
    scribe: str = ""
    responders: list[str] = field(default_factory=list)
    declared_by: str = ""
    triaged_at: datetime | None = None
    contained_at: datetime | None = None
    containment: ContainmentAction | None = None
    routed_to_version: int | None = None
    contain_override: str = ""
    impact_resolved_at: datetime | None = None
    root_cause: str = ""
    root_cause_at: datetime | None = None
    staging_at: datetime | None = None
    staging_version: int | None = None
    promoted_at: datetime | None = None
    promoted_version: int | None = None
    closed_at: datetime | None = None
    alert_keys: list[str] = field(default_factory=list)

    # --- derived times -------------------------------------------------------------

    @property
    def started_at(self) -> datetime:
        """When impact started: the backdated start if known, else detection."""
        return self.impact_started_at or self.detected_at

    @property
    def ended_at(self) -> datetime | None:
        """When user impact ended: the resolved milestone, else containment, else close."""
        return self.impact_resolved_at or self.closed_at

    @property
    def duration(self) -> timedelta | None:
        end = self.ended_at
        return end - self.started_at if end else None

    @property
    def detection_gap(self) -> timedelta | None:
        """Impact start to detection; None when the start was never recorded."""
        if self.impact_started_at is None:
            return None
        return max(self.detected_at - self.impact_started_at, timedelta(0))

    @property
    def time_to_contain(self) -> timedelta | None:
        return self.contained_at - self.detected_at if self.contained_at else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.impact_resolved_at - self.detected_at if self.impact_resolved_at else None

    @property
    def is_open(self) -> bool:
        return self.stage is not Stage.CLOSED

    @property
    def is_contained(self) -> bool:
        return self.contained_at is not None

    # --- (de)serialisation ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Enum):
                value = value.value
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, list):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        def enum(kind: type[E], key: str) -> E | None:
            value = data.get(key)
            return kind(value) if value else None

        return cls(
            id=data["id"],
            title=data.get("title", ""),
            prompt_id=data.get("prompt_id", ""),
            prompt_version=data.get("prompt_version"),
            severity=Severity(data["severity"]),
            detected_by=DetectionMethod(data["detected_by"]),
            detected_at=datetime.fromisoformat(data["detected_at"]),
            impact_started_at=from_iso(data.get("impact_started_at")),
            stage=Stage(data.get("stage", "detect")),
            category=enum(TriageCategory, "category"),
            hypothesis=data.get("hypothesis", ""),
            commander=data.get("commander", ""),
            scribe=data.get("scribe", ""),
            responders=list(data.get("responders", [])),
            declared_by=data.get("declared_by", ""),
            triaged_at=from_iso(data.get("triaged_at")),
            contained_at=from_iso(data.get("contained_at")),
            containment=enum(ContainmentAction, "containment"),
            routed_to_version=data.get("routed_to_version"),
            contain_override=data.get("contain_override", ""),
            impact_resolved_at=from_iso(data.get("impact_resolved_at")),
            root_cause=data.get("root_cause", ""),
            root_cause_at=from_iso(data.get("root_cause_at")),
            staging_at=from_iso(data.get("staging_at")),
            staging_version=data.get("staging_version"),
            promoted_at=from_iso(data.get("promoted_at")),
            promoted_version=data.get("promoted_version"),
            closed_at=from_iso(data.get("closed_at")),
            alert_keys=list(data.get("alert_keys", [])),
        )


@dataclass
class TimelineEvent:
    """One line of the timeline. ``doc_id`` is the store's key, None until stored."""

    incident_id: str
    at: datetime
    kind: EventKind
    text: str
    author: str = ""
    starred: bool = False
    backdated: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    doc_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "text": self.text,
            "author": self.author,
            "starred": self.starred,
            "backdated": self.backdated,
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], doc_id: int | None = None) -> TimelineEvent:
        return cls(
            incident_id=data["incident_id"],
            at=datetime.fromisoformat(data["at"]),
            kind=EventKind(data["kind"]),
            text=data.get("text", ""),
            author=data.get("author", ""),
            starred=bool(data.get("starred", False)),
            backdated=bool(data.get("backdated", False)),
            meta=dict(data.get("meta") or {}),
            doc_id=doc_id,
        )


@dataclass
class FailureSample:
    """A bad output seen in production: what went in, what came out, why it is wrong."""

    incident_id: str
    input: str
    output: str
    note: str = ""
    at: datetime | None = None
    author: str = ""
    doc_id: int | None = None
    good: bool = False  # a baseline output (e.g. from before the incident), not a failure

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "incident_id": self.incident_id,
            "input": self.input,
            "output": self.output,
            "note": self.note,
            "at": to_iso(self.at),
            "author": self.author,
        }
        if self.good:
            data["good"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], doc_id: int | None = None) -> FailureSample:
        return cls(
            incident_id=data["incident_id"],
            input=data.get("input", ""),
            output=data.get("output", ""),
            note=data.get("note", ""),
            at=from_iso(data.get("at")),
            author=data.get("author", ""),
            doc_id=doc_id,
            good=bool(data.get("good", False)),
        )
