"""Alert ingestion: a webhook payload becomes declared incidents and timeline lines.

Rules (issue 7):
- a firing alert declares an incident (detected by "alert", impact start from startsAt,
  the alert's links on the timeline), or joins the open incident that already holds its
  fingerprint, or its group key for the same prompt: no duplicate incident on a re-fire or
  for several alerts of one group;
- an alert is never dropped for want of a prompt: without a prompt label it opens (or
  joins) an incident whose prompt is "(unassigned)", with its labels on the timeline, and
  the prompt is set during triage; a prompt the registry does not know yet is declared as
  new (containment then asks for its versions first);
- a resolved alert stamps "Alert resolved" on its incident and never closes it;
- re-sends of what is already on the timeline (Alertmanager repeats a group's alerts on
  every notification) change nothing.

Each alert is read and mapped before anything is written, and all of one alert's writes
happen in one store transaction, which is also what makes the fingerprint look-up and the
incident id allocation race-free against other processes ingesting at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from incident_tui.config import Config
from incident_tui.domain.alerts import (
    AlertError,
    AlertMapping,
    AlertRecord,
    PayloadError,
    declare_params,
    fingerprint_key,
    group_key_for,
    labels_text,
    parse_payload,
)
from incident_tui.domain.containment import is_unassigned
from incident_tui.domain.models import EventKind, Incident, TimelineEvent
from incident_tui.domain.times import local_now
from incident_tui.services.incidents import IncidentService, ServiceError
from incident_tui.store.storage import transaction
from incident_tui.store.stores import Database, Stores

__all__ = ["AlertService", "IngestReport", "IngestResult", "PayloadError", "mapping_from_config"]

CREATED = "created"
UPDATED = "updated"
RESOLVED = "resolved"
UNCHANGED = "unchanged"
IGNORED = "ignored"


class IngestResult(NamedTuple):
    """What one alert did: (incident id or None, action, one line for people)."""

    incident_id: str | None
    action: str
    message: str


@dataclass
class IngestReport:
    """The outcome of one payload: a result per accepted alert and an error per refused one."""

    kind: str
    results: list[IngestResult] = field(default_factory=list)
    errors: list[AlertError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def incident_ids(self) -> list[str]:
        """Every incident created or touched, once each, in the order first met."""
        seen: dict[str, None] = {}
        for result in self.results:
            if result.incident_id:
                seen.setdefault(result.incident_id, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ok": self.ok,
            "incidents": self.incident_ids,
            "results": [r._asdict() for r in self.results],
            "errors": [e.to_dict() for e in self.errors],
            "warnings": list(self.warnings),
        }


def mapping_from_config(config: Config) -> AlertMapping:
    """The domain mapping from the config's [alerts] table (defaults when the table is absent)."""
    alerts = getattr(config, "alerts", None)
    if alerts is None:
        return AlertMapping()
    return AlertMapping(
        prompt_label=alerts.prompt_label,
        version_label=alerts.version_label,
        severity_label=alerts.severity_label,
        severity_map=dict(alerts.severity_map),
        default_severity=alerts.default_severity,
    )


def _quote(text: str) -> str:
    return f'"{text}"'


class AlertService:
    """Turns alert webhook payloads into incidents. Safe to share between threads."""

    def __init__(
        self,
        stores: Stores | Database,
        *,
        config: Config | None = None,
        clock: Callable[[], datetime] = local_now,
        incidents: IncidentService | None = None,
    ) -> None:
        self.config = config or Config()
        self.clock = clock
        self.incidents = incidents or IncidentService(stores, config=self.config, clock=clock)
        self.db = self.incidents.db  # for transactions
        self.repo = self.incidents.repo
        self.mapping = mapping_from_config(self.config)
        # The storage lock is re-entrant per thread; this keeps two webhook threads from
        # interleaving TinyDB's in-memory caches in one process.
        self._lock = threading.RLock()

    def ingest(self, payload_kind: str, payload: Any) -> IngestReport:
        """Apply every alert of a decoded payload ("alertmanager", "grafana" or "auto").

        Raises PayloadError (nothing written) when the payload as a whole is unusable.
        """
        parsed = parse_payload(payload_kind, payload)
        report = IngestReport(kind=parsed.kind, errors=list(parsed.errors), warnings=list(parsed.warnings))
        for alert in parsed.alerts:
            try:
                with self._lock:
                    report.results.append(self.apply(alert))
            except ServiceError as exc:
                report.errors.append(AlertError(alert.index, str(exc), alert.name))
        # In payload order, whichever stage refused the alert; the "too many" line last.
        report.errors.sort(key=lambda e: (e.index is None, e.index or 0))
        return report

    # --- one alert -----------------------------------------------------------------------

    def apply(self, alert: AlertRecord) -> IngestResult:
        """Apply one parsed alert in one transaction. Raises ServiceError before writing."""
        now = self.clock()
        fp_key = fingerprint_key(alert)
        params = declare_params(alert, self.mapping, now) if alert.firing else None
        # Alerts of one group without a prompt label share one unassigned incident.
        group_key = group_key_for(alert, params.prompt_id) if params is not None else ""
        with transaction(self.db):
            incident = self.repo.incident_by_alert_key(fp_key)
            if alert.firing:
                if incident is None and group_key:
                    incident = self.repo.incident_by_alert_key(group_key)
                if incident is None:
                    return self._declare(alert, params, fp_key, group_key, now)
                return self._refire(incident, alert, fp_key, group_key, now)
            if incident is None:
                return IngestResult(
                    None, IGNORED, f"resolved alert {_quote(alert.summary)} matches no open incident; nothing to do"
                )
            return self._resolve(incident, alert, now)

    def _declare(self, alert: AlertRecord, params, fp_key: str, group_key: str, now: datetime) -> IngestResult:
        warnings = list(params.warnings)
        version = params.version
        if not is_unassigned(params.prompt_id) and version is not None:
            known = self.incidents.prompts.registry().get(params.prompt_id)
            if known and version not in known:
                # The prompt is registered but not this version: the production label tells
                # what is live; the alert's number is kept on the timeline, not on the incident.
                warnings.append(
                    f"label {self.mapping.version_label}={version} is not a registered version of "
                    f"{params.prompt_id}; the production version is used"
                )
                version = None
        incident = self.incidents.declare(
            title=params.title,
            prompt_id=params.prompt_id,
            severity=params.severity,
            detected_by=params.detected_by,
            version=version,
            started_at=params.started_at,
            detected_at=now,
            commander="",  # nobody has taken command of an incident a machine declared
            alert_key=fp_key,
            new_prompt=True,  # an alert is never dropped: an unregistered prompt is declared as new
        )
        if group_key and group_key not in incident.alert_keys:
            incident.alert_keys.append(group_key)
            self.repo.save_incident(incident)
        self._stamp_firing(incident, alert, now, again=False, events=[])
        if params.unassigned:
            self._alert_event(incident, alert, f"Alert payload: {params.unassigned}", now)
            self._alert_event(incident, alert, f"Alert labels: {labels_text(alert.labels)}", now)
        for warning in warnings:
            self._alert_event(incident, alert, f"Alert payload: {warning}", now)
        if is_unassigned(incident.prompt_id):
            prompt = "prompt unassigned: set it in triage"
        else:
            version = f"v{incident.prompt_version}" if incident.prompt_version is not None else "version unknown"
            prompt = f"{incident.prompt_id} {version}"
        return IngestResult(
            incident.id, CREATED, f"{incident.id} declared ({incident.severity.value}, {prompt}): {incident.title}"
        )

    def _refire(self, incident: Incident, alert: AlertRecord, fp_key: str, group_key: str, now: datetime) -> IngestResult:
        changed_keys = False
        if group_key and group_key not in incident.alert_keys:
            # A group key names one open incident: when this alert joined by its fingerprint
            # and the group already has its own incident, the key stays with that one.
            owner = self.repo.incident_by_alert_key(group_key)
            if owner is not None and owner.id != incident.id:
                group_key = ""
        for key in (fp_key, group_key):
            if key and key not in incident.alert_keys:
                incident.alert_keys.append(key)
                changed_keys = True
        if changed_keys:
            self.repo.save_incident(incident)
        events = self._alert_events(incident)
        last = self._last_status(events, alert)
        if last is not None and last.meta.get("status") == "firing" and last.meta.get("starts_at") == _iso(alert.starts_at):
            return IngestResult(incident.id, UNCHANGED, f"{incident.id}: alert {_quote(alert.summary)} already recorded")
        again = last is not None
        self._stamp_firing(incident, alert, now, again=again, events=events)
        word = "firing again" if again else "firing"
        return IngestResult(incident.id, UPDATED, f"{incident.id}: alert {_quote(alert.summary)} {word}")

    def _resolve(self, incident: Incident, alert: AlertRecord, now: datetime) -> IngestResult:
        last = self._last_status(self._alert_events(incident), alert)
        if last is not None and last.meta.get("status") == "resolved":
            return IngestResult(incident.id, UNCHANGED, f"{incident.id}: alert {_quote(alert.summary)} already resolved")
        # Stamped when it resolved (in our zone), unless the sender's clock is ahead of ours.
        at = alert.ends_at.astimezone(now.tzinfo) if alert.ends_at is not None and alert.ends_at <= now else now
        self._alert_event(
            incident, alert, f"Alert resolved: {_quote(alert.summary)}", at,
            status="resolved", backdated=at != now, ends_at=_iso(alert.ends_at),
        )
        return IngestResult(
            incident.id, RESOLVED,
            f"{incident.id}: alert {_quote(alert.summary)} resolved (the incident stays open until people close it)",
        )

    # --- timeline lines --------------------------------------------------------------------

    def _stamp_firing(
        self, incident: Incident, alert: AlertRecord, now: datetime, *, again: bool, events: list[TimelineEvent]
    ) -> None:
        word = "firing again" if again else "firing"
        name = f" ({alert.name})" if alert.name and alert.name != alert.summary else ""
        value = f" — {alert.value_text}" if alert.value_text else ""
        self._alert_event(
            incident, alert, f"Alert {word}: {_quote(alert.summary)}{name}{value}", now,
            status="firing", starts_at=_iso(alert.starts_at),
        )
        known = {e.meta.get("url") for e in events}
        for what, url in alert.links:
            if url not in known:
                self._alert_event(incident, alert, f"{what}: {url}", now, url=url, link=what.lower())
                known.add(url)

    def _alert_event(
        self, incident: Incident, alert: AlertRecord, text: str, at: datetime, *, backdated: bool = False, **meta
    ) -> TimelineEvent:
        meta = {"source": alert.source, "fingerprint": alert.fingerprint, **meta}
        return self.incidents.stamp(incident, EventKind.ALERT, text, at=at, author=alert.source, backdated=backdated,
                                    **meta)

    def _alert_events(self, incident: Incident) -> list[TimelineEvent]:
        # One read of the timeline per alert: the events table is the big one.
        return [e for e in self.repo.timeline(incident.id) if e.kind is EventKind.ALERT]

    @staticmethod
    def _last_status(events: list[TimelineEvent], alert: AlertRecord) -> TimelineEvent | None:
        """The latest firing/resolved line this alert stamped on the incident, if any."""
        mine = [
            e for e in events
            if e.meta.get("fingerprint") == alert.fingerprint
            and e.meta.get("source") == alert.source
            and "status" in e.meta
        ]
        # Order of writing, not of the (possibly backdated) time: the last word counts.
        return max(mine, key=lambda e: e.doc_id or 0) if mine else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
