"""The postmortem: the template's fields, what the app can prefill, progress and lint.

The field list follows the seed template in its order (Incident ID … WHAT DIDN'T GO WELL), with
Google's SRE extras placed where they read naturally: authors and document status in the
header, trigger and resolution beside the root cause, "where we got lucky" last. Exports
(domain/export.py) and the form both walk ``SECTIONS``, so the order lives here only.

Pure: no textual, no tinydb.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from .models import EventKind, Incident, TimelineEvent
from .times import format_duration


class DocStatus(str, Enum):
    DRAFT = "draft"
    IN_REVIEW = "in-review"
    FINAL = "final"

    @property
    def label(self) -> str:
        return {"draft": "draft", "in-review": "in review", "final": "final"}[self.value]


class ActionKind(str, Enum):
    PREVENTS_RECURRENCE = "prevents-recurrence"
    IMPROVES_DETECTION = "improves-detection"
    IMPROVES_RESPONSE = "improves-response"

    @property
    def label(self) -> str:
        """The template's words for the kind."""
        return {
            "prevents-recurrence": "prevents recurrence",
            "improves-detection": "improves detection speed",
            "improves-response": "improves response process",
        }[self.value]


class ActionStatus(str, Enum):
    OPEN = "open"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    WONT_DO = "wont-do"

    @property
    def label(self) -> str:
        return {"open": "open", "in-progress": "in progress", "done": "done", "wont-do": "won't do"}[self.value]

    @property
    def finished(self) -> bool:
        """Nothing more is to be done: done, or decided against. Anything else is open."""
        return self in (ActionStatus.DONE, ActionStatus.WONT_DO)


@dataclass
class ActionItem:
    """One action item. ``due`` is kept as typed (lint checks it is a YYYY-MM-DD date)."""

    text: str = ""
    owner: str = ""
    due: str = ""
    kind: ActionKind = ActionKind.PREVENTS_RECURRENCE
    status: ActionStatus = ActionStatus.OPEN
    link: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "owner": self.owner,
            "due": self.due,
            "kind": self.kind.value,
            "status": self.status.value,
            "link": self.link,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionItem:
        return cls(
            text=data.get("text", ""),
            owner=data.get("owner", ""),
            due=data.get("due", ""),
            kind=ActionKind(data.get("kind") or ActionKind.PREVENTS_RECURRENCE.value),
            status=ActionStatus(data.get("status") or ActionStatus.OPEN.value),
            link=data.get("link", ""),
        )


# --- the template ----------------------------------------------------------------------

LINE, PROSE, FACTORS, ACTIONS, STATUS = "line", "prose", "factors", "actions", "status"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str  # LINE, PROSE, FACTORS, ACTIONS or STATUS
    prefilled: bool = False
    required: bool = True
    hint: str = ""  # placeholder text in the form


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    guidance: str
    fields: tuple[FieldSpec, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "header",
        "HEADER",
        "Who prepared it and when it is reviewed. Incident facts come from the incident and follow it "
        "until you edit them.",
        (
            FieldSpec("incident_id", "Incident ID", LINE, prefilled=True),
            FieldSpec("prompt_id", "Prompt ID", LINE, prefilled=True),
            FieldSpec("prompt_version", "Prompt version at time of incident", LINE, prefilled=True, hint="v7"),
            FieldSpec("started_at", "Date/Time start", LINE, prefilled=True),
            FieldSpec("ended_at", "Date/Time end", LINE, prefilled=True, hint="not resolved yet"),
            FieldSpec("duration", "Duration", LINE, prefilled=True),
            FieldSpec("severity", "Severity", LINE, prefilled=True, hint="P1, P2 or P3"),
            FieldSpec("prepared_by", "Prepared by", LINE, prefilled=True),
            FieldSpec("review_date", "Review date", LINE, hint="YYYY-MM-DD"),
            FieldSpec("authors", "Authors", LINE, prefilled=True, required=False),
            FieldSpec("status", "Document status", STATUS, required=False),
        ),
    ),
    SectionSpec(
        "summary",
        "SUMMARY",
        "2–3 sentences: what happened, user impact, how resolved.",
        (FieldSpec("summary", "Summary", PROSE, hint="What happened, who was affected, how it was resolved."),),
    ),
    SectionSpec(
        "timeline",
        "TIMELINE",
        "time — event, one per line. Built from the incident's milestones and starred notes until you "
        "edit it: star a note on the timeline to bring it here.",
        (FieldSpec("timeline", "Timeline", PROSE, prefilled=True),),
    ),
    SectionSpec(
        "root_cause",
        "ROOT CAUSE",
        "Precise: what specifically changed and why it caused this specific failure mode — not "
        "\"the prompt was bad\". Trigger: what set it off, apart from the cause. Resolution: what "
        "ended the impact.",
        (
            FieldSpec("root_cause", "Root cause", PROSE, prefilled=True,
                      hint="what changed (version, instruction, data, model) and why it caused this failure"),
            FieldSpec("trigger", "Trigger", PROSE, required=False),
            FieldSpec("resolution", "Resolution", PROSE, prefilled=True),
        ),
    ),
    SectionSpec(
        "detection",
        "DETECTION GAP",
        "Time from start to detection; method: alert / user report / manual discovery; why not sooner.",
        (
            FieldSpec("detection_gap", "Time from start to detection", LINE, prefilled=True, hint="e.g. 12m"),
            FieldSpec("detection_method", "Method", LINE, prefilled=True,
                      hint="alert / user report / manual discovery"),
            FieldSpec("detection_why", "Why not sooner", PROSE),
        ),
    ),
    SectionSpec(
        "impact",
        "USER IMPACT",
        "Affected requests count / percentage; affected segments; business impact.",
        (
            FieldSpec("impact_requests", "Affected requests", LINE, hint="count / percentage"),
            FieldSpec("impact_segments", "Affected segments", LINE),
            FieldSpec("impact_business", "Business impact", PROSE),
        ),
    ),
    SectionSpec(
        "factors",
        "CONTRIBUTING FACTORS",
        "What made it possible or worse, one per item: missing evals, review gaps, alert thresholds, "
        "ownership.",
        (FieldSpec("contributing_factors", "Contributing factors", FACTORS),),
    ),
    SectionSpec(
        "actions",
        "ACTION ITEMS",
        "Each with an owner and a due date; one kind each: prevents recurrence / improves detection speed / "
        "improves response process. Cover all three kinds, or waive one with a reason.",
        (FieldSpec("action_items", "Action items", ACTIONS),),
    ),
    SectionSpec(
        "went_well", "WHAT WENT WELL", "What to keep doing.", (FieldSpec("went_well", "What went well", PROSE),)
    ),
    SectionSpec(
        "went_badly",
        "WHAT DIDN'T GO WELL",
        "What slowed detection, containment or diagnosis.",
        (FieldSpec("went_badly", "What didn't go well", PROSE),),
    ),
    SectionSpec(
        "lucky",
        "WHERE WE GOT LUCKY",
        "What helped by chance and should not be relied on next time (write \"nothing\" if so).",
        (FieldSpec("lucky", "Where we got lucky", PROSE),),
    ),
)

FIELDS: dict[str, FieldSpec] = {f.key: f for s in SECTIONS for f in s.fields}
SECTION_OF: dict[str, str] = {f.key: s.key for s in SECTIONS for f in s.fields}
SECTION_KEYS: tuple[str, ...] = tuple(s.key for s in SECTIONS)
# The text fields a user types into (lists and the status have their own operations).
TEXT_FIELDS: tuple[str, ...] = tuple(k for k, f in FIELDS.items() if f.kind in (LINE, PROSE))
PREFILLED: frozenset[str] = frozenset(k for k, f in FIELDS.items() if f.prefilled)


def section(key: str) -> SectionSpec:
    """The section with ``key``; KeyError names the known keys."""
    for spec in SECTIONS:
        if spec.key == key:
            return spec
    raise KeyError(f"unknown section {key!r} (one of: {', '.join(SECTION_KEYS)})")


# --- the document ------------------------------------------------------------------------


@dataclass
class Postmortem:
    """A postmortem as the form and the exports see it.

    ``fields`` holds every text field (prefilled values merged in); ``edited`` names the fields
    the user has set, which prefill no longer touches.
    """

    incident_id: str
    title: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    edited: set[str] = field(default_factory=set)
    contributing_factors: list[str] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    waivers: dict[ActionKind, str] = field(default_factory=dict)
    status: DocStatus = DocStatus.DRAFT
    updated_at: str = ""

    def get(self, key: str) -> str:
        return self.fields.get(key, "")

    def with_prefill(self, computed: dict[str, str]) -> Postmortem:
        """Apply computed values to every prefillable field the user has not edited (in place)."""
        self.title = computed.get("title", self.title)
        for key in PREFILLED:
            if key not in self.edited:
                self.fields[key] = computed.get(key, "")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The stored form: only what the user set; prefilled values are recomputed on load."""
        return {
            "incident_id": self.incident_id,
            "fields": {k: self.fields.get(k, "") for k in sorted(self.edited)},
            "contributing_factors": list(self.contributing_factors),
            "action_items": [a.to_dict() for a in self.action_items],
            "waivers": {k.value: v for k, v in self.waivers.items()},
            "status": self.status.value,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Postmortem:
        stored = {k: str(v) for k, v in (data.get("fields") or {}).items() if k in FIELDS}
        waivers: dict[ActionKind, str] = {}
        for key, reason in (data.get("waivers") or {}).items():
            try:
                waivers[ActionKind(key)] = str(reason)
            except ValueError:
                continue  # a kind a newer version knows; dropping it is safer than failing the load
        return cls(
            incident_id=data["incident_id"],
            fields=dict(stored),
            edited=set(stored),
            contributing_factors=[str(x) for x in data.get("contributing_factors") or []],
            action_items=[ActionItem.from_dict(a) for a in data.get("action_items") or []],
            waivers=waivers,
            status=DocStatus(data.get("status") or DocStatus.DRAFT.value),
            updated_at=data.get("updated_at", ""),
        )


# --- prefill -------------------------------------------------------------------------------

# Automatic events that belong in a postmortem timeline; stage changes, edits and samples are
# bookkeeping and would drown the story.
_TIMELINE_KINDS = frozenset(
    {
        EventKind.IMPACT_START,
        EventKind.DETECTION,
        EventKind.ALERT,
        EventKind.TRIAGE,
        EventKind.OVERRIDE,
        EventKind.CONTAINMENT,
        EventKind.MILESTONE,
        EventKind.CHANGE,
    }
)


def iso_minutes(value: datetime | None) -> str:
    """ISO 8601 with its offset, to the minute: how times appear in postmortems and exports."""
    return value.isoformat(timespec="minutes") if value is not None else ""


def timeline_lines(events: Iterable[TimelineEvent]) -> list[str]:
    """The TIMELINE section's lines ("time — event"): milestones, automatic events and starred notes.

    A failed hook is kept (it explains a delay); a starred event of any kind is kept; notes
    carry their author.
    """
    lines = []
    for event in sorted(events, key=lambda e: (e.at, e.doc_id or 0)):
        keep = event.starred or event.kind in _TIMELINE_KINDS
        if event.kind is EventKind.HOOK and event.meta.get("ok") is False:
            keep = True
        if not keep:
            continue
        text = " ".join(event.text.split())
        if event.kind is EventKind.NOTE and event.author:
            text = f"{event.author}: {text}"
        lines.append(f"{iso_minutes(event.at)} — {text}")
    return lines


def _resolution(incident: Incident) -> str:
    parts = []
    if incident.contained_at is not None and incident.containment is not None:
        what = "Rolled back" if incident.containment.value == "rollback" else "Kill switch used"
        target = f" to v{incident.routed_to_version}" if incident.routed_to_version is not None else ""
        parts.append(f"{what}{target} at {iso_minutes(incident.contained_at)}.")
    if incident.impact_resolved_at is not None:
        parts.append(f"User impact resolved at {iso_minutes(incident.impact_resolved_at)}.")
    if incident.promoted_at is not None:
        version = f" v{incident.promoted_version}" if incident.promoted_version is not None else ""
        parts.append(f"Fix{version} validated and promoted to production at {iso_minutes(incident.promoted_at)}.")
    return " ".join(parts)


def _people(incident: Incident) -> str:
    names: list[str] = []
    for name in (incident.commander, incident.scribe, *incident.responders):
        if name and name not in names:
            names.append(name)
    return ", ".join(names)


def prefill(incident: Incident, events: Iterable[TimelineEvent]) -> dict[str, str]:
    """Every value the app can compute for the postmortem, keyed by field (plus ``title``).

    Empty strings mean "not known yet" (an open incident has no end), which lint then reports.
    """
    gap = incident.detection_gap
    return {
        "title": incident.title,
        "incident_id": incident.id,
        "prompt_id": incident.prompt_id,
        "prompt_version": f"v{incident.prompt_version}" if incident.prompt_version is not None else "",
        "started_at": iso_minutes(incident.started_at),
        "ended_at": iso_minutes(incident.ended_at),
        "duration": format_duration(incident.duration) if incident.duration is not None else "",
        "severity": incident.severity.value,
        "prepared_by": incident.scribe or incident.commander,
        "authors": _people(incident),
        "timeline": "\n".join(timeline_lines(events)),
        "root_cause": incident.root_cause,
        "resolution": _resolution(incident),
        "detection_gap": format_duration(gap) if gap is not None else "",
        "detection_method": incident.detected_by.label,
    }


# --- what "filled" means ----------------------------------------------------------------------


def filled(pm: Postmortem, key: str) -> bool:
    """Whether field ``key`` has content: the one definition lint, the checklist and progress share.

    Text counts once it has a non-blank character; the factor list once one factor has text; the
    action list once it has an item; the document status always.
    """
    spec = FIELDS[key]
    if spec.kind == FACTORS:
        return any(x.strip() for x in pm.contributing_factors)
    if spec.kind == ACTIONS:
        return bool(pm.action_items)
    if spec.kind == STATUS:
        return True
    return bool(pm.get(key).strip())


# --- lint -----------------------------------------------------------------------------------

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    """One lint result: which field (``action_items.2.owner`` for an item), how bad, what to do."""

    field: str
    level: str
    message: str
    check: str  # the checklist item it belongs to (CHECKS)

    @property
    def section(self) -> str:
        return SECTION_OF.get(self.field.split(".", 1)[0], "")


# The checklist shown before a postmortem is marked final, in the order it is shown: id, label,
# and the fields the label speaks for (a ✓ line claims exactly these, no more).
CHECKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("summary", "Summary is 2–3 sentences", ("summary",)),
    ("root-cause", "Root cause names what changed and why", ("root_cause",)),
    ("owners", "Every action item has an owner and a due date", ("action_items",)),
    ("kinds", "Action items cover prevention, detection and response (or a kind is waived)", ("action_items",)),
    ("detection", "Detection gap and method filled", ("detection_gap", "detection_method")),
    ("review-date", "Review date set", ("review_date",)),
)

_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|approx|incl|cf)\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s|$)")

_VAGUE = (
    r"\b(the|our)?\s*prompt (was|is|got|became) (just )?(bad|wrong|broken|worse|poor|off)\b",
    r"\bbad prompt\b",
    r"\b(the )?(model|llm|ai) (was|got|became|went) (worse|dumb|dumber|bad|confused|crazy)\b",
    r"\bsomething (changed|broke|went wrong)\b",
    r"\bit (just )?(broke|stopped working)\b",
    r"\bhuman error\b",
    r"\b(output )?quality (dropped|degraded|went down|got worse)\b",
    r"^\s*(unknown|unclear|tbd|n/?a|not sure|\?+)\s*\.?\s*$",
)
_VAGUE_RE = [re.compile(p, re.IGNORECASE) for p in _VAGUE]
# What a precise root cause names: a version or change id, or a verb of change.
_CHANGE_RE = re.compile(
    r"\bv\d+\b|\bversion \d+|#\d+|\b(chang|add|remov|drop|delet|replac|introduc|reword|rewr[io]t|renam|mov|swap"
    r"|switch|upgrad|downgrad|updat|edit|insert|truncat|reorder|merg|revert|omit|shorten|lengthen)\w*",
    re.IGNORECASE,
)
_WHY_RE = re.compile(
    r"\b(because|caus\w*|led to|leads? to|so that|so the|which (made|meant|led)|made (the|it)|result\w*"
    r"|therefore|meaning|due to|as a result|hence|thus)\b",
    re.IGNORECASE,
)


def count_sentences(text: str) -> int:
    """Sentences in ``text``; "e.g." and version numbers such as "v4.2" do not end one."""
    body = _ABBREVIATIONS.sub(lambda m: m.group(1), text.strip())
    if not body:
        return 0
    parts = [p for p in _SENTENCE_END.split(body) if p.strip()]
    return len(parts)


def vague_phrase(text: str) -> str | None:
    """The first vague phrase in a root cause ("the prompt was bad"), or None."""
    for pattern in _VAGUE_RE:
        match = pattern.search(text)
        if match:
            return match.group(0).strip()
    return None


def parse_date(value: str) -> date | None:
    """A YYYY-MM-DD date, or None when it is not one."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def lint(pm: Postmortem) -> list[Finding]:
    """Every problem that keeps ``pm`` from being final, in template order.

    Errors block "final"; warnings are advice. Each finding names a field and a CHECKS id.
    """
    out: list[Finding] = []

    summary = pm.get("summary").strip()
    if not filled(pm, "summary"):
        out.append(
            Finding("summary", ERROR, "Write 2–3 sentences: what happened, user impact, how resolved", "summary")
        )
    else:
        n = count_sentences(summary)
        if not 2 <= n <= 3:
            out.append(
                Finding("summary", ERROR, f"{n} sentence{'s' if n != 1 else ''}: write 2–3 "
                        "(what happened, user impact, how resolved)", "summary")
            )

    cause = pm.get("root_cause").strip()
    if not filled(pm, "root_cause"):
        out.append(Finding("root_cause", ERROR, "Say what specifically changed and why it caused this failure",
                           "root-cause"))
    else:
        vague = vague_phrase(cause)
        if vague:
            out.append(
                Finding("root_cause", ERROR, f"Too vague (\"{vague}\"): name what specifically changed and why it "
                        "caused this failure mode", "root-cause")
            )
        elif not _CHANGE_RE.search(cause):
            out.append(
                Finding("root_cause", ERROR, "Name what changed: the version, the instruction, the data or the model",
                        "root-cause")
            )
        if not vague and not _WHY_RE.search(cause):
            out.append(
                Finding("root_cause", WARNING, "Say why the change caused this failure mode (\"… because …\")",
                        "root-cause")
            )

    items = pm.action_items
    if not items:
        out.append(Finding("action_items", ERROR, "Add action items, each with an owner and a due date", "owners"))
    for i, item in enumerate(items, start=1):
        where = f"action_items.{i}"
        if not item.text.strip():
            out.append(Finding(f"{where}.text", ERROR, f"Action {i} says nothing: write what will be done", "owners"))
        if not item.owner.strip():
            out.append(Finding(f"{where}.owner", ERROR, f"Action {i} has no owner", "owners"))
        if not item.due.strip():
            out.append(Finding(f"{where}.due", ERROR, f"Action {i} has no due date", "owners"))
        elif parse_date(item.due) is None:
            out.append(Finding(f"{where}.due", ERROR, f"Action {i}: due date {item.due!r} is not YYYY-MM-DD", "owners"))
    covered = {item.kind for item in items}
    for kind in ActionKind:
        if kind not in covered and not pm.waivers.get(kind, "").strip():
            out.append(
                Finding("action_items", ERROR, f"No action item {kind.label}: add one or waive it with a reason",
                        "kinds")
            )

    if not filled(pm, "detection_gap"):
        out.append(Finding("detection_gap", ERROR, "Fill the detection gap (time from impact start to detection)",
                           "detection"))
    if not filled(pm, "detection_method"):
        out.append(Finding("detection_method", ERROR,
                           "Say how it was detected (alert / user report / manual discovery)",
                           "detection"))
    if not filled(pm, "detection_why"):
        out.append(Finding("detection_why", WARNING, "Say why it was not detected sooner", "detection"))

    review = pm.get("review_date").strip()
    if not filled(pm, "review_date"):
        out.append(Finding("review_date", ERROR, "Set a review date", "review-date"))
    elif parse_date(review) is None:
        out.append(Finding("review_date", ERROR, f"Review date {review!r} is not YYYY-MM-DD", "review-date"))
    return out


@dataclass(frozen=True)
class CheckItem:
    key: str
    label: str
    ok: bool
    problems: tuple[str, ...]
    fields: tuple[str, ...] = ()


def checklist(pm: Postmortem, findings: list[Finding] | None = None) -> list[CheckItem]:
    """The pre-"final" checklist: each of CHECKS with its errors (warnings do not fail a check).

    A check passes only when every field it speaks for is filled (``filled``), so a ✓ line never
    stands beside an "empty" line about the same field (``still_empty``).
    """
    findings = lint(pm) if findings is None else findings
    out = []
    for key, label, fields in CHECKS:
        errors = tuple(f.message for f in findings if f.check == key and f.level == ERROR)
        ok = not errors and all(filled(pm, name) for name in fields)
        out.append(CheckItem(key, label, ok, errors, fields))
    return out


def still_empty(pm: Postmortem) -> list[tuple[str, FieldSpec]]:
    """(section title, field) of every required field that is not ``filled``, in template order."""
    return [(s.title, f) for s in SECTIONS for f in s.fields if f.required and not filled(pm, f.key)]


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that keep a postmortem from being marked final."""
    return [f for f in findings if f.level == ERROR]


# --- progress ---------------------------------------------------------------------------------


def section_complete(pm: Postmortem, key: str, findings: list[Finding] | None = None) -> bool:
    """A section is complete when its required fields are ``filled`` and lint has no error in it."""
    spec = section(key)
    findings = lint(pm) if findings is None else findings
    if not all(filled(pm, f.key) for f in spec.fields if f.required):
        return False
    return not any(f.section == key and f.level == ERROR for f in findings)


def progress(pm: Postmortem, findings: list[Finding] | None = None) -> tuple[int, int]:
    """(sections complete, sections in total)."""
    findings = lint(pm) if findings is None else findings
    done = sum(section_complete(pm, s.key, findings) for s in SECTIONS)
    return done, len(SECTIONS)
