"""The changes table: what deploy pipelines and responders record as changes."""

from __future__ import annotations

from typing import Any

from incident_tui.domain.changes import Change

CHANGES = "changes"


class ChangeRepository:
    def __init__(self, db: Any) -> None:
        self.table = db.table(CHANGES)

    def add(self, change: Change) -> Change:
        doc_id = self.table.insert(change.to_dict())
        change.id = f"CHG-{doc_id}"
        return change

    def all(self) -> list[Change]:
        return [Change.from_dict(doc, f"CHG-{doc.doc_id}") for doc in self.table.all()]

    def get(self, change_id: str) -> Change | None:
        number = change_id.strip().upper().removeprefix("CHG-")
        if not number.isdigit():
            return None
        doc = self.table.get(doc_id=int(number))
        return Change.from_dict(doc, f"CHG-{doc.doc_id}") if doc is not None else None
