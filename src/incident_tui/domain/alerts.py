"""Alert webhook payloads (Prometheus Alertmanager v4, Grafana unified alerting) as plain records.

Pure: no store, no network. A payload that cannot be read at all raises PayloadError; an
alert that cannot be read becomes an AlertError naming its index, so one bad alert never
blocks the others and never reaches the store half-understood.

Both senders post the same shape (Grafana embeds Alertmanager's template data):
``{"receiver", "status", "alerts": [{"status", "labels", "annotations", "startsAt",
"endsAt", "generatorURL", "fingerprint", ...}], "groupLabels", "commonLabels",
"commonAnnotations", "externalURL", "version", "groupKey", "truncatedAlerts"}``.
Alertmanager sends version "4"; Grafana sends version "1" plus ``orgId``, ``state``,
``title``, ``message`` and, per alert, ``silenceURL``, ``dashboardURL``, ``panelURL``,
``values``/``valueString`` and ``imageURL``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from incident_tui.domain.errors import IncidentTuiError
from .prompts import UNASSIGNED, parse_version
from .limits import cap_chars
from .text import clean

ALERTMANAGER = "alertmanager"
GRAFANA = "grafana"
KINDS = (ALERTMANAGER, GRAFANA)
_SENDER_NAMES = {ALERTMANAGER: "an Alertmanager", GRAFANA: "a Grafana"}

FIRING = "firing"
RESOLVED = "resolved"

# Limits. Identity strings (fingerprints, group keys, label names and values) are refused
# when huge, because a truncated identity would silently merge or split incidents; text
# meant for reading (annotations, the summary) is truncated instead.
MAX_ALERTS = 1000
MAX_LABELS = 200
MAX_LABEL_NAME = 256
MAX_LABEL_VALUE = 2048
MAX_ANNOTATIONS = 200
MAX_ANNOTATION = 8000
MAX_FINGERPRINT = 256
MAX_GROUP_KEY = 8192
MAX_URL = 2048
MAX_TITLE = 200
MAX_VALUE_TEXT = 500
MAX_LABELS_TEXT = 1000  # the "Alert labels: …" line of an incident opened without a prompt

# Go's zero time: what both senders put in endsAt while an alert is still firing.
_GO_ZERO_YEAR = 1

_SUMMARY_KEYS = ("summary", "title", "message", "description")
_RUNBOOK_KEYS = ("runbook_url", "runbook", "runbookURL", "runbook_link")
_DASHBOARD_KEYS = ("dashboard_url", "dashboard", "dashboardURL")


class PayloadError(IncidentTuiError, ValueError):
    """The payload as a whole cannot be read; nothing in it is used. One line."""


def decode_json(body: bytes) -> Any:
    """The payload from request bytes; ValueError with one line when it is not UTF-8 JSON.

    Here rather than beside the webhook server, so `ingest` reads a payload without loading it."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("body is not UTF-8 text") from None
    if not text.strip():
        raise ValueError("empty body: expected a JSON webhook payload")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"bad JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ValueError("bad JSON: nested too deeply") from None


@dataclass(frozen=True)
class AlertError:
    """Why one alert of a payload was refused. ``index`` is its position in ``alerts``."""

    index: int | None
    message: str
    name: str = ""

    def __str__(self) -> str:
        where = f"alerts[{self.index}]" if self.index is not None else "payload"
        if self.name:
            where += f" ({self.name})"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "alert": self.name, "message": self.message, "text": str(self)}


@dataclass(frozen=True)
class AlertRecord:
    """One alert, normalised: cleaned strings, aware datetimes, http(s) links only."""

    source: str
    index: int
    status: str
    fingerprint: str
    group_key: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str = ""
    runbook_url: str = ""
    dashboard_url: str = ""
    panel_url: str = ""
    silence_url: str = ""
    value_text: str = ""
    fingerprint_derived: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The alert rule's name (``alertname`` label), or "" when absent."""
        return self.labels.get("alertname", "")

    @property
    def summary(self) -> str:
        """One line for people: the summary annotation, else the rule name, else the fingerprint."""
        for key in _SUMMARY_KEYS:
            text = clean(self.annotations.get(key, ""), multiline=False)
            if text:
                return _truncate(text, MAX_TITLE)
        if self.name:
            return _truncate(clean(self.name, multiline=False), MAX_TITLE)
        return f"Alert {self.fingerprint}"

    @property
    def firing(self) -> bool:
        return self.status == FIRING

    @property
    def links(self) -> list[tuple[str, str]]:
        """(what, url) pairs worth a timeline line, in the order a responder opens them."""
        pairs = [
            ("Alert source", self.generator_url),
            ("Runbook", self.runbook_url),
            ("Dashboard", self.dashboard_url),
            ("Panel", self.panel_url),
        ]
        return [(what, url) for what, url in pairs if url]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "index": self.index,
            "status": self.status,
            "fingerprint": self.fingerprint,
            "group_key": self.group_key,
            "name": self.name,
            "summary": self.summary,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "generator_url": self.generator_url,
            "runbook_url": self.runbook_url,
            "dashboard_url": self.dashboard_url,
            "panel_url": self.panel_url,
            "silence_url": self.silence_url,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ParsedPayload:
    """Everything usable in one webhook call, plus why the rest was refused."""

    kind: str
    receiver: str
    status: str
    group_key: str
    alerts: list[AlertRecord]
    errors: list[AlertError]
    truncated_alerts: int = 0
    warnings: tuple[str, ...] = ()


# --- helpers -------------------------------------------------------------------------


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _Refused(Exception):
    """Internal: one alert is refused with this message."""


def parse_time(value: Any, field_name: str) -> datetime | None:
    """An RFC 3339 time from a payload, as an aware datetime; Go's zero time and "" give None.

    Raises ValueError naming the field when the value is not a time. A time without an
    offset is read as UTC, which is what both senders mean.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field_name} must be a string time, not {_type_name(value)}")
    text = value.strip()
    if len(text) > 64:
        raise ValueError(f"{field_name} is not a time (too long)")
    # Go writes up to nine fractional digits; Python reads up to six.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field_name} is not a time: {_truncate(clean(text, multiline=False), 40)!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    if parsed.year <= _GO_ZERO_YEAR:
        return None
    return parsed


def _string_map(value: Any, what: str, *, required: bool, max_items: int, max_value: int | None) -> dict[str, str]:
    """A labels/annotations object: string keys to string values. ``max_value`` None refuses long values."""
    if value is None:
        if required:
            raise _Refused(f"missing {what}")
        return {}
    if not isinstance(value, dict):
        raise _Refused(f"{what} must be an object, not {_type_name(value)}")
    if len(value) > max_items:
        raise _Refused(f"too many {what} ({len(value)}; limit {max_items})")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > MAX_LABEL_NAME:
            raise _Refused(f"{what} has a name longer than {MAX_LABEL_NAME} characters")
        name = clean(key, multiline=False)
        if not isinstance(item, str):
            raise _Refused(f"{what[:-1]} {name!r} must be a string, not {_type_name(item)}")
        if max_value is None:
            if len(item) > MAX_LABEL_VALUE:
                raise _Refused(f"{what[:-1]} {name!r} is too long ({len(item)} characters; limit {MAX_LABEL_VALUE})")
            out[name] = clean(item, multiline=False)
        else:
            out[name] = cap_chars(clean(item), max_value)  # kept, with "… [truncated N KiB]" where cut
    return out


def _optional_str(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Refused(f"{key} must be a string, not {_type_name(value)}")
    return value


def _url(value: str, what: str, warnings: list[str]) -> str:
    """Keep only plain http(s) links: anything else is dropped with a warning, never shown."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > MAX_URL:
        warnings.append(f"{what} dropped: longer than {MAX_URL} characters")
        return ""
    cleaned = clean(value, multiline=False)
    if cleaned != value or any(c.isspace() for c in value) or not re.match(r"^https?://[^/\s]", value, re.I):
        warnings.append(f"{what} dropped: not an http(s) link")
        return ""
    return value


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable 16-hex-digit id from a label set, for alerts sent without a fingerprint.

    Alertmanager's own fingerprint is also a hash of the label set, so two sends of the
    same alert map to the same id either way.
    """
    digest = hashlib.sha256()
    for key in sorted(labels):
        digest.update(key.encode("utf-8", "surrogatepass") + b"\xff")
        digest.update(labels[key].encode("utf-8", "surrogatepass") + b"\xfe")
    return digest.hexdigest()[:16]


def _parse_alert(raw: Any, index: int, source: str, group_key: str) -> AlertRecord:
    if not isinstance(raw, dict):
        raise _Refused(f"must be an object, not {_type_name(raw)}")
    status = raw.get("status")
    if status is None:
        raise _Refused("missing status (firing or resolved)")
    if not isinstance(status, str):
        raise _Refused(f"status must be a string, not {_type_name(status)}")
    status = status.strip().lower()
    if status not in (FIRING, RESOLVED):
        raise _Refused(f"unknown status {_truncate(clean(status, multiline=False), 40)!r} (firing or resolved)")
    labels = _string_map(raw.get("labels"), "labels", required=True, max_items=MAX_LABELS, max_value=None)
    annotations = _string_map(
        raw.get("annotations"), "annotations", required=False, max_items=MAX_ANNOTATIONS, max_value=MAX_ANNOTATION
    )
    try:
        starts_at = parse_time(raw.get("startsAt"), "startsAt")
        ends_at = parse_time(raw.get("endsAt"), "endsAt")
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    fingerprint = _optional_str(raw, "fingerprint").strip()
    if len(fingerprint) > MAX_FINGERPRINT:
        raise _Refused(f"fingerprint is too long ({len(fingerprint)} characters; limit {MAX_FINGERPRINT})")
    fingerprint = clean(fingerprint, multiline=False)
    derived = not fingerprint
    if derived:
        if not labels:
            raise _Refused("no fingerprint and no labels: nothing identifies this alert")
        fingerprint = labels_fingerprint(labels)
    warnings: list[str] = []
    generator = _url(_optional_str(raw, "generatorURL"), "generatorURL", warnings)
    silence = _url(_optional_str(raw, "silenceURL"), "silenceURL", warnings)
    dashboard = _url(_optional_str(raw, "dashboardURL"), "dashboardURL", warnings)
    panel = _url(_optional_str(raw, "panelURL"), "panelURL", warnings)
    runbook = ""
    for key in _RUNBOOK_KEYS:
        if annotations.get(key):
            runbook = _url(annotations[key], f"annotation {key}", warnings)
            break
    if not dashboard:
        for key in _DASHBOARD_KEYS:
            if annotations.get(key):
                dashboard = _url(annotations[key], f"annotation {key}", warnings)
                break
    value_text = ""
    value_string = raw.get("valueString")
    if isinstance(value_string, str):
        value_text = _truncate(clean(value_string, multiline=False), MAX_VALUE_TEXT)
    return AlertRecord(
        source=source,
        index=index,
        status=status,
        fingerprint=fingerprint,
        group_key=group_key,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        generator_url=generator,
        runbook_url=runbook,
        dashboard_url=dashboard,
        panel_url=panel,
        silence_url=silence,
        value_text=value_text,
        fingerprint_derived=derived,
        warnings=tuple(warnings),
    )


def _alert_name(raw: Any) -> str:
    """The alertname of a raw alert, for error messages, if it can be read at all."""
    if isinstance(raw, dict) and isinstance(raw.get("labels"), dict):
        name = raw["labels"].get("alertname")
        if isinstance(name, str):
            return _truncate(clean(name, multiline=False), 80)
    return ""


def _parse(payload: Any, kind: str, expected_version: str) -> ParsedPayload:
    other = GRAFANA if kind == ALERTMANAGER else ALERTMANAGER
    if not isinstance(payload, dict):
        raise PayloadError(f"a {kind} payload must be a JSON object, not {_type_name(payload)}")
    version = payload.get("version")
    if version is not None and version != expected_version:
        hint = f"; this looks like {_SENDER_NAMES[other]} payload" if detect_kind(payload) == other else ""
        raise PayloadError(
            f"unsupported {kind} webhook version {_truncate(clean(str(version), multiline=False), 20)!r} "
            f"(expected \"{expected_version}\"){hint}"
        )
    alerts = payload.get("alerts")
    if alerts is None:
        if kind == GRAFANA and ("ruleName" in payload or "evalMatches" in payload):
            raise PayloadError("legacy Grafana alert payload (no alerts list): use a unified-alerting webhook contact point")
        raise PayloadError(f"not a {kind} payload: no \"alerts\" list")
    if not isinstance(alerts, list):
        raise PayloadError(f"\"alerts\" must be a list, not {_type_name(alerts)}")
    group_key = payload.get("groupKey", "")
    if group_key is None:
        group_key = ""
    if not isinstance(group_key, str):
        raise PayloadError(f"\"groupKey\" must be a string, not {_type_name(group_key)}")
    if len(group_key) > MAX_GROUP_KEY:
        raise PayloadError(f"\"groupKey\" is too long ({len(group_key)} characters; limit {MAX_GROUP_KEY})")
    group_key = clean(group_key, multiline=False)
    receiver = payload.get("receiver")
    receiver = _truncate(clean(receiver, multiline=False), 200) if isinstance(receiver, str) else ""
    status = payload.get("status")
    status = status.strip().lower() if isinstance(status, str) and len(status) < 40 else ""
    warnings: list[str] = []
    truncated = payload.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        truncated = 0
    if truncated:
        warnings.append(f"the sender left out {truncated} alert(s) of this group (max_alerts)")

    records: list[AlertRecord] = []
    errors: list[AlertError] = []
    for index, raw in enumerate(alerts[:MAX_ALERTS]):
        try:
            records.append(_parse_alert(raw, index, kind, group_key))
        except _Refused as exc:
            errors.append(AlertError(index, str(exc), _alert_name(raw)))
    if len(alerts) > MAX_ALERTS:
        errors.append(
            AlertError(None, f"alerts[{MAX_ALERTS}:] refused: more than {MAX_ALERTS} alerts in one payload "
                       f"({len(alerts)}); lower max_alerts on the sender")
        )
    return ParsedPayload(kind, receiver, status, group_key, records, errors, truncated, tuple(warnings))


def parse_alertmanager(payload: Any) -> ParsedPayload:
    """Read a Prometheus Alertmanager webhook (version "4") payload, already decoded from JSON.

    Raises PayloadError when the payload as a whole is unusable; bad alerts are listed
    in ``errors`` and left out of ``alerts``.
    """
    return _parse(payload, ALERTMANAGER, "4")


def parse_grafana(payload: Any) -> ParsedPayload:
    """Read a Grafana (unified alerting) webhook contact point payload, already decoded from JSON.

    Raises PayloadError when the payload as a whole is unusable (including Grafana's
    legacy pre-8 format); bad alerts are listed in ``errors`` and left out of ``alerts``.
    """
    return _parse(payload, GRAFANA, "1")


def detect_kind(payload: Any) -> str:
    """Guess the sender of a decoded payload: Grafana adds orgId/state/title and says version "1"."""
    if isinstance(payload, dict):
        if payload.get("version") == "1" or any(k in payload for k in ("orgId", "state", "ruleName", "evalMatches")):
            return GRAFANA
    return ALERTMANAGER


def parse_payload(kind: str, payload: Any) -> ParsedPayload:
    """Dispatch on ``kind`` ("alertmanager", "grafana" or "auto")."""
    if kind == "auto":
        kind = detect_kind(payload)
    if kind == ALERTMANAGER:
        return parse_alertmanager(payload)
    if kind == GRAFANA:
        return parse_grafana(payload)
    raise PayloadError(f"unknown payload kind {kind!r} (alertmanager or grafana)")


# --- mapping an alert to an incident ----------------------------------------------------


@dataclass(frozen=True)
class AlertMapping:
    """Which labels name the prompt, its version and the severity; how severities map to P1–P3."""

    prompt_label: str = "prompt_id"
    version_label: str = "prompt_version"
    severity_label: str = "severity"
    severity_map: Mapping[str, str] = field(default_factory=lambda: {"critical": "P1", "warning": "P2"})
    default_severity: str = "P3"


@dataclass(frozen=True)
class DeclareParams:
    """What IncidentService.declare needs for a firing alert (detected_by is always "alert").

    ``prompt_id`` is UNASSIGNED when the alert does not name a usable prompt; ``unassigned``
    then says why, for the incident's timeline.
    """

    title: str
    prompt_id: str
    version: int | None
    severity: str
    started_at: datetime | None
    detected_by: str = "alert"
    warnings: tuple[str, ...] = ()
    unassigned: str = ""


def severity_for(labels: Mapping[str, str], mapping: AlertMapping) -> str:
    """P1/P2/P3 from the severity label: the configured map (case-insensitive), a literal
    P1–P3, else the default."""
    raw = labels.get(mapping.severity_label, "").strip()
    lowered = {k.lower(): v for k, v in mapping.severity_map.items()}
    if raw.lower() in lowered:
        return lowered[raw.lower()]
    if raw.upper() in ("P1", "P2", "P3"):
        return raw.upper()
    return mapping.default_severity


def prompt_of(alert: AlertRecord, mapping: AlertMapping) -> str:
    """The prompt id the alert names, cleaned; "" when the label is missing, blank or unusable."""
    prompt_id = clean(alert.labels.get(mapping.prompt_label, ""), multiline=False).strip()
    if len(prompt_id) > MAX_TITLE or prompt_id == UNASSIGNED:
        return ""
    return prompt_id


def version_of(alert: AlertRecord, mapping: AlertMapping) -> tuple[int | None, str]:
    """(version, warning): "7" and "v7" read as 7; anything else is left unknown with a warning."""
    raw = alert.labels.get(mapping.version_label, "").strip()
    if not raw:
        return None, ""
    version = parse_version(raw)
    if version is not None:
        return version, ""
    return None, f"label {mapping.version_label}={_truncate(raw, 40)!r} is not a version number; version left unknown"


def labels_text(labels: Mapping[str, str], limit: int = MAX_LABELS_TEXT) -> str:
    """The label set on one line, sorted ("alertname=X, severity=critical"), cut at ``limit``."""
    return _truncate(", ".join(f"{k}={labels[k]}" for k in sorted(labels)), limit)


def declare_params(alert: AlertRecord, mapping: AlertMapping, now: datetime) -> DeclareParams:
    """The incident a firing alert declares. Never refuses: an alert is never dropped.

    Without a usable prompt label the incident's prompt is UNASSIGNED (set during triage),
    and ``unassigned`` says what was missing. Impact start is the alert's startsAt, never
    later than ``now`` (a sender's clock may run ahead of ours); detection is the moment the
    alert reaches us.
    """
    prompt_id = prompt_of(alert, mapping)
    unassigned = ""
    version, warning = version_of(alert, mapping)
    if not prompt_id:
        raw = clean(alert.labels.get(mapping.prompt_label, ""), multiline=False).strip()
        if not raw:
            what = f"no {mapping.prompt_label!r} label"
        elif raw == UNASSIGNED:
            what = f"label {mapping.prompt_label!r} says {UNASSIGNED}"
        else:
            what = f"label {mapping.prompt_label!r} is too long for a prompt id"
        unassigned = (
            f"{what}: prompt unassigned; set it during triage (t, or `incident-tui triage INC CATEGORY --prompt P`)"
            f" and add the label to the alert rule (or set [alerts] prompt_label in the config)"
        )
        prompt_id, version, warning = UNASSIGNED, None, ""
    started = alert.starts_at
    if started is not None:
        # Shown beside detection, so in the same zone as ``now``.
        started = min(started, now).astimezone(now.tzinfo)
    return DeclareParams(
        title=alert.summary,
        prompt_id=prompt_id,
        version=version,
        severity=severity_for(alert.labels, mapping),
        started_at=started,
        warnings=tuple(w for w in (warning,) if w) + alert.warnings,
        unassigned=unassigned,
    )


def fingerprint_key(alert: AlertRecord) -> str:
    """The key stored on an incident for this alert: sender-scoped, so Grafana and
    Alertmanager fingerprints never collide."""
    return f"{alert.source}:fp:{alert.fingerprint}"


def group_key_for(alert: AlertRecord, prompt_id: str) -> str:
    """The group key stored on an incident, scoped to the prompt: one notification group may
    hold alerts of several prompts (grouped by alertname), and each prompt gets its own
    incident. "" when the sender gave no group key."""
    if not alert.group_key or not prompt_id:
        return ""
    return f"{alert.source}:group:{prompt_id}:{alert.group_key}"
