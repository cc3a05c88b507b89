"""Turns the TinyDB documents into domain objects and back.

Tables: ``incidents`` (one document per incident, keyed by its ``id`` field), ``events``
(the timeline), ``samples`` (failure samples). Prompt versions, postmortems and changes have
their own repositories beside this one (store/prompts.py, postmortems.py, changes.py), all
bundled by store/stores.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from tinydb import TinyDB, where
from tinydb.table import Document

from incident_tui.domain.errors import IncidentTuiError
from incident_tui.domain.models import (
    ContainmentAction,
    DetectionMethod,
    EventKind,
    FailureSample,
    Incident,
    Severity,
    Stage,
    TimelineEvent,
    TriageCategory,
    from_iso,
)
from incident_tui.store.storage import StoreError, transaction

INCIDENTS = "incidents"
EVENTS = "events"
SAMPLES = "samples"


class NotFoundError(IncidentTuiError, LookupError):
    """No incident, event or sample with that id."""


class BadDocumentError(StoreError):
    """A stored document cannot become a domain object (hand-edited, or written by a bug).

    One line naming the document (incident id, or table and doc id), the file and the field.
    """


T = TypeVar("T")

# Typed fields and how they are read, to name the culprit when a document does not load.
_ENUMS: dict[str, Callable[[Any], Any]] = {
    "severity": Severity,
    "detected_by": DetectionMethod,
    "stage": Stage,
    "category": TriageCategory,
    "containment": ContainmentAction,
    "kind": EventKind,
}


def _culprit(doc: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The first field whose value cannot be read, if one of the typed fields is to blame."""
    for field, value in doc.items():
        convert = _ENUMS.get(field)
        if convert is None and (field == "at" or field.endswith("_at")):
            convert = from_iso
        if convert is None or value is None or value == "":
            continue
        try:
            convert(value)
        except Exception:  # noqa: BLE001 - any failure to read the value names this field
            return field, value
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


class Repository:
    """Reads and writes incidents, timeline events and failure samples."""

    def __init__(self, db: TinyDB) -> None:
        self.db = db
        self.incidents = db.table(INCIDENTS)
        self.events = db.table(EVENTS)
        self.samples = db.table(SAMPLES)
        # Incident id -> incident doc ids, valid while the storage's change count of the table
        # equals the count stored beside it. Our own writes move it forward in place; anything
        # else (another process, a rollback) rebuilds it. Timeline events are not indexed here:
        # the storage reads one incident's events on demand (see timeline()).
        self._ids: dict[str, list[int]] = {}
        self._ids_count: int | None = None
        self._ids_missing = 0  # incident documents without a string id
        #: One line per document the last list_incidents()/timeline()/samples_for() call skipped
        #: because it could not be read; the rest of the database stays usable.
        self.skipped: list[str] = []

    # --- documents -> domain objects -------------------------------------------------

    def _file(self) -> str:
        path = getattr(self.db.storage, "path", None)
        return path or "the database"

    def _load(self, what: str, doc: Mapping[str, Any], doc_id: Any, build: Callable[[], T]) -> T:
        """``build()``, or a BadDocumentError saying which document and which field."""
        try:
            return build()
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            ident = doc.get("id") if what == "incident" else None
            if isinstance(ident, str) and ident.strip():
                name = f"incident {_short(ident.strip())[1:-1]}"
            else:
                owner = doc.get("incident_id")
                of = f" of {_short(owner)[1:-1]}" if isinstance(owner, str) and owner else ""
                name = f"{what} document {doc_id}{of}"
            where = f"{name} in {self._file()}"
            if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str) and exc.args[0] not in doc:
                message = f"{where} lacks field {exc.args[0]!r}"
            else:
                culprit = _culprit(doc)
                if culprit is not None:
                    message = f"{where} has an invalid {culprit[0]!r}: {_short(culprit[1])}"
                else:
                    message = f"{where} cannot be read ({type(exc).__name__}: {exc})"
            raise BadDocumentError(" ".join(message.split())) from None

    def _incident(self, doc: Mapping[str, Any]) -> Incident:
        return self._load("incident", doc, getattr(doc, "doc_id", "?"), lambda: Incident.from_dict(doc))

    def _event(self, doc: Mapping[str, Any], doc_id: int) -> TimelineEvent:
        return self._load("timeline event", doc, doc_id, lambda: TimelineEvent.from_dict(doc, doc_id))

    def _loaded(self, items: Iterable[tuple[Mapping[str, Any], Callable[[], T]]]) -> list[T]:
        out: list[T] = []
        for _doc, load in items:
            try:
                out.append(load())
            except BadDocumentError as exc:
                self.skipped.append(str(exc))
        return out

    # --- incidents ---------------------------------------------------------------

    def incident_ids(self, containing: str = "") -> list[str]:
        """Every incident id in use (closed ones too), so a new id never reuses one.

        With ``containing``, only the ids that contain that text (e.g. one day's ``INC-20260101-``).
        An incident document that lost its id (hand-edited) still owns its timeline: then the ids
        the events name count as used too.
        """
        if self._change_count(INCIDENTS) is not None:
            index = self._id_index()
            if not self._ids_missing:
                return [i for i in index if containing in i]
        ids = [doc.get("id") for doc in self.incidents]
        known = [i for i in ids if isinstance(i, str)]
        if len(known) < len(ids):
            seen = set(known)
            known += [i for i in self._event_incident_ids() if i not in seen]
        return [i for i in known if containing in i]

    def _change_count(self, table: str) -> int | None:
        change_count = getattr(self.db.storage, "change_count", None)
        return change_count(table) if change_count is not None else None

    def _id_index(self) -> dict[str, list[int]]:
        """Incident id -> doc ids of the incidents with that id (in table order), rebuilt only when needed."""
        count = self._change_count(INCIDENTS)
        if count is None or count != self._ids_count:
            index: dict[str, list[int]] = {}
            missing = 0
            for key, doc in self._raw_table(INCIDENTS).items():
                ident = doc.get("id")
                if isinstance(ident, str):
                    index.setdefault(ident, []).append(int(key))
                else:
                    missing += 1
            self._ids, self._ids_count, self._ids_missing = index, count, missing
        return self._ids

    def _raw_table(self, name: str) -> Mapping[str, Any]:
        """``{doc_id: doc}`` of one table, straight from the storage (read-only documents)."""
        read_table = getattr(self.db.storage, "read_table", None)
        if read_table is not None:
            table: Mapping[str, Any] = read_table(name)
            return table
        return (self.db.storage.read() or {}).get(name, {})

    def _own_writes(self, table: str, count_before: int | None, writes: int) -> bool:
        """True when the table's change count moved by exactly our ``writes`` (nothing else changed it)."""
        return count_before is not None and self._change_count(table) == count_before + writes

    def find_incident(self, incident_id: str) -> Incident | None:
        if self._change_count(INCIDENTS) is None:  # a storage without change counts: scan
            docs = self.incidents.search(where("id") == incident_id)
            return self._incident(docs[0]) if docs else None
        find_by_key = getattr(self.db.storage, "find_by_key", None)
        if find_by_key is not None and isinstance(incident_id, str):
            # While the incidents are not parsed yet, the snapshot's per-document index finds one
            # without parsing the others (a CLI command on one incident); None once they are.
            found: dict[str, dict[str, Any]] | None = find_by_key(INCIDENTS, "id", incident_id)
            if found is not None:
                if not found:
                    return None
                key, first = next(iter(found.items()))
                return self._incident(Document(first, int(key)) if key.isdigit() else first)
        keys = self._id_index().get(incident_id) if isinstance(incident_id, str) else None
        doc = self.incidents.get(doc_id=keys[0]) if keys else None
        return self._incident(doc) if doc is not None else None

    def get_incident(self, incident_id: str) -> Incident:
        incident = self.find_incident(incident_id)
        if incident is None:
            raise NotFoundError(f"no incident {incident_id}")
        return incident

    def list_incidents(self) -> list[Incident]:
        """Every readable incident; one that cannot be read is skipped and named in :attr:`skipped`."""
        self.skipped = []
        return self._loaded((doc, lambda doc=doc: self._incident(doc)) for doc in self.incidents)

    def list_open_incidents(self) -> list[Incident]:
        """The incidents not closed, as :meth:`list_incidents` would give them; a document whose stage
        is ``closed`` is not built at all (most of a long history is closed)."""
        self.skipped = []
        closed = Stage.CLOSED.value
        select_by = getattr(self.db.storage, "select_by", None)
        # While the table is not parsed, the snapshot's index says each one's stage: only the
        # documents not closed are read (at 5,000 incidents, the 720 open of them).
        docs = select_by(INCIDENTS, "stage", lambda stage: stage != closed) if select_by is not None else None
        if docs is None:
            docs = {key: doc for key, doc in self._raw_table(INCIDENTS).items() if doc.get("stage") != closed}
        return self._loaded(
            (doc, lambda doc=doc, key=key: self._load("incident", doc, key, lambda: Incident.from_dict(doc)))
            for key, doc in docs.items()
        )

    def insert_incident(self, incident: Incident) -> None:
        if self._change_count(INCIDENTS) is None:
            self.incidents.insert(incident.to_dict())
            return
        with transaction(self.db):  # caught up first, so the index below is checked against current data
            index = self._id_index()
            before = self._ids_count
            doc_id = self.incidents.insert(incident.to_dict())
            if before is not None and self._own_writes(INCIDENTS, before, 1):
                index.setdefault(incident.id, []).append(doc_id)
                self._ids_count = before + 1

    def save_incident(self, incident: Incident) -> None:
        """Write every field of ``incident`` over its stored document."""
        if self._change_count(INCIDENTS) is None:
            updated = self.incidents.update(incident.to_dict(), where("id") == incident.id)
        else:
            with transaction(self.db):
                keys = list(self._id_index().get(incident.id, ()))
                before = self._ids_count
                updated = self.incidents.update(incident.to_dict(), doc_ids=keys) if keys else []
                if updated and before is not None and self._own_writes(INCIDENTS, before, len(updated)):
                    self._ids_count = before + len(updated)  # same ids, same documents: still valid
        if not updated:
            raise NotFoundError(f"no incident {incident.id}")

    def incident_count(self) -> int:
        """How many incident documents there are (closed ones and unreadable ones too)."""
        return len(self.incidents)

    def incident_by_alert_key(self, key: str) -> Incident | None:
        """The open incident an alert fingerprint or group key already belongs to."""
        docs = self.incidents.search(
            (where("stage") != "closed") & where("alert_keys").test(lambda keys: key in (keys or []))
        )
        return self._incident(docs[0]) if docs else None

    # --- timeline ----------------------------------------------------------------

    def add_event(self, event: TimelineEvent) -> TimelineEvent:
        event.doc_id = self.events.insert(event.to_dict())
        return event

    def timeline(self, incident_id: str) -> list[TimelineEvent]:
        """The incident's events, oldest first (ties in the order they were written).

        Reads only this incident's events: the storage keeps the events of its snapshot grouped
        by incident with an offset index, plus what the journal added since (see store/segment.py),
        so showing one timeline never loads the others. An event that cannot be read is skipped
        and named in :attr:`skipped`.
        """
        self.skipped = []
        read_group = getattr(self.db.storage, "read_group", None)
        if read_group is None:  # a storage without groups (plain TinyDB): scan
            docs = self.events.search(where("incident_id") == incident_id)
            events = self._loaded((doc, lambda doc=doc: self._event(doc, doc.doc_id)) for doc in docs)
        elif not isinstance(incident_id, str):
            events = []
        else:
            raw: dict[str, dict[str, Any]] = read_group(EVENTS, "incident_id", incident_id)
            events = self._loaded(
                (doc, lambda key=key, doc=doc: self._event(doc, int(key))) for key, doc in raw.items() if key.isdigit()
            )
        events.sort(key=lambda e: (e.at, e.doc_id))
        return events

    def _event_incident_ids(self) -> set[str]:
        """Every incident id a timeline event names (from the storage's group index when it has one)."""
        group_keys = getattr(self.db.storage, "group_keys", None)
        if group_keys is not None:
            keys: set[str] = group_keys(EVENTS, "incident_id")
            return keys
        return {i for i in (doc.get("incident_id") for doc in self.events) if isinstance(i, str)}

    def event_count(self) -> int:
        """How many timeline events there are, of every incident (counted without loading them)."""
        count = getattr(self.db.storage, "count", None)
        if count is not None:
            n: int = count(EVENTS)
            return n
        return len(self.events)

    def get_event(self, doc_id: int, incident_id: str | None = None) -> TimelineEvent:
        """One event by id; ``incident_id`` (where it probably is) spares looking elsewhere."""
        find = getattr(self.db.storage, "find_document", None)
        if find is not None:
            if isinstance(incident_id, str):
                doc = find(EVENTS, str(doc_id), key="incident_id", value=incident_id)
            else:
                doc = find(EVENTS, str(doc_id))
        else:
            doc = self.events.get(doc_id=doc_id)
        if doc is None:
            raise NotFoundError(f"no timeline event {doc_id}")
        return self._event(doc, doc_id)

    def save_event(self, event: TimelineEvent) -> None:
        if event.doc_id is None:
            raise NotFoundError("event was never stored")
        # update(doc_ids=...) finds the stored document in the event's incident first: one
        # timeline is read, not every event.
        self.events.update(event.to_dict(), doc_ids=[event.doc_id])

    # --- failure samples ---------------------------------------------------------

    def add_sample(self, sample: FailureSample) -> FailureSample:
        sample.doc_id = self.samples.insert(sample.to_dict())
        return sample

    def add_samples(self, samples: list[FailureSample]) -> None:
        """Many samples at once (call inside a transaction: one commit for the whole file)."""
        ids = self.samples.insert_multiple(s.to_dict() for s in samples)
        for sample, doc_id in zip(samples, ids):
            sample.doc_id = doc_id

    def samples_for(self, incident_id: str) -> list[FailureSample]:
        self.skipped = []
        docs = self.samples.search(where("incident_id") == incident_id)
        return self._loaded(
            (doc, lambda doc=doc: self._load("sample", doc, doc.doc_id, lambda: FailureSample.from_dict(doc, doc.doc_id)))
            for doc in docs
        )
