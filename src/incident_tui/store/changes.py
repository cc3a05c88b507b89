"""The changes table: what deploy pipelines and responders record as changes."""

from __future__ import annotations

from tinydb import TinyDB

from incident_tui.domain.changes import Change
from incident_tui.store.repository import NotFoundError

CHANGES = "changes"


class ChangeRepository:
    """Reads and writes recorded changes; a change's id is ``CHG-<doc id>``."""

    def __init__(self, db: TinyDB) -> None:
        self.table = db.table(CHANGES)

    def add(self, change: Change) -> Change:
        doc_id = self.table.insert(change.to_dict())
        change.id = f"CHG-{doc_id}"
        return change

    def all(self) -> list[Change]:
        return [Change.from_dict(doc, f"CHG-{doc.doc_id}") for doc in self.table.all()]

    def find(self, change_id: str) -> Change | None:
        """The change with that id (``CHG-12``, any case), or None."""
        number = change_id.strip().upper().removeprefix("CHG-")
        if not number.isdigit():
            return None
        doc = self.table.get(doc_id=int(number))
        if doc is None or isinstance(doc, list):
            return None
        return Change.from_dict(doc, f"CHG-{doc.doc_id}")

    def get(self, change_id: str) -> Change:
        """The change with that id; NotFoundError when there is none."""
        change = self.find(change_id)
        if change is None:
            raise NotFoundError(f"no change {change_id}")
        return change
