"""Turns the TinyDB documents into domain objects and back.

Tables: ``incidents`` (one document per incident, keyed by its ``id`` field), ``events``
(the timeline), ``samples`` (failure samples). Prompt versions and postmortems have their
own services.
"""

from __future__ import annotations

from collections.abc import Iterable

from tinydb import TinyDB, where

from incident_tui.domain.models import FailureSample, Incident, TimelineEvent

INCIDENTS = "incidents"
EVENTS = "events"
SAMPLES = "samples"


class NotFoundError(LookupError):
    """No incident, event or sample with that id."""


class Repository:
    """Reads and writes incidents, timeline events and failure samples."""

    def __init__(self, db: TinyDB) -> None:
        self.db = db
        self.incidents = db.table(INCIDENTS)
        self.events = db.table(EVENTS)
        self.samples = db.table(SAMPLES)
        self._index: dict[str, list[int]] = {}
        self._index_count: int | None = None

    # --- incidents ---------------------------------------------------------------

    def incident_ids(self) -> list[str]:
        """Every incident id in the store (closed ones too)."""
        return [doc["id"] for doc in self.incidents]

    def find_incident(self, incident_id: str) -> Incident | None:
        docs = self.incidents.search(where("id") == incident_id)
        return Incident.from_dict(docs[0]) if docs else None

    def get_incident(self, incident_id: str) -> Incident:
        incident = self.find_incident(incident_id)
        if incident is None:
            raise NotFoundError(f"no incident {incident_id}")
        return incident

    def list_incidents(self) -> list[Incident]:
        return [Incident.from_dict(doc) for doc in self.incidents]

    def insert_incident(self, incident: Incident) -> None:
        self.incidents.insert(incident.to_dict())

    def save_incident(self, incident: Incident) -> None:
        """Write every field of ``incident`` over its stored document."""
        updated = self.incidents.update(incident.to_dict(), where("id") == incident.id)
        if not updated:
            raise NotFoundError(f"no incident {incident.id}")

    def incident_by_alert_key(self, key: str) -> Incident | None:
        """The open incident an alert fingerprint or group key already belongs to."""
        docs = self.incidents.search(
            (where("stage") != "closed") & where("alert_keys").test(lambda keys: key in (keys or []))
        )
        return Incident.from_dict(docs[0]) if docs else None

    # --- timeline ----------------------------------------------------------------

    def add_event(self, event: TimelineEvent) -> TimelineEvent:
        event.doc_id = self.events.insert(event.to_dict())
        return event

    def add_events(self, events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
        events = list(events)
        ids = self.events.insert_multiple([e.to_dict() for e in events])
        for event, doc_id in zip(events, ids):
            event.doc_id = doc_id
        return events

    def timeline(self, incident_id: str) -> list[TimelineEvent]:
        """The incident's events, oldest first (ties in the order they were written)."""
        change_count = getattr(self.db.storage, "change_count", None)
        if change_count is None:  # a storage without change counts: scan
            docs = self.events.search(where("incident_id") == incident_id)
            events = [TimelineEvent.from_dict(doc, doc.doc_id) for doc in docs]
        else:
            # An index incident -> event ids, rebuilt only when the events table changed, so
            # moving through incidents never scans every event of every incident.
            count = change_count(EVENTS)
            raw = (self.db.storage.read() or {}).get(EVENTS, {})
            if count != self._index_count:
                index: dict[str, list[int]] = {}
                for key, doc in raw.items():
                    index.setdefault(doc.get("incident_id"), []).append(int(key))
                self._index, self._index_count = index, count
            events = [TimelineEvent.from_dict(raw[str(i)], i) for i in self._index.get(incident_id, ())]
        events.sort(key=lambda e: (e.at, e.doc_id))
        return events

    def get_event(self, doc_id: int) -> TimelineEvent:
        doc = self.events.get(doc_id=doc_id)
        if doc is None:
            raise NotFoundError(f"no timeline event {doc_id}")
        return TimelineEvent.from_dict(doc, doc_id)

    def save_event(self, event: TimelineEvent) -> None:
        if event.doc_id is None:
            raise NotFoundError("event was never stored")
        self.events.update(event.to_dict(), doc_ids=[event.doc_id])

    # --- failure samples ---------------------------------------------------------

    def add_sample(self, sample: FailureSample) -> FailureSample:
        sample.doc_id = self.samples.insert(sample.to_dict())
        return sample

    def samples_for(self, incident_id: str) -> list[FailureSample]:
        docs = self.samples.search(where("incident_id") == incident_id)
        return [FailureSample.from_dict(doc, doc.doc_id) for doc in docs]
