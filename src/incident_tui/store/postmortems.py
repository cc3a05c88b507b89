"""The ``postmortems`` table: one document per incident, holding only what the user set
(prefilled values are recomputed from the incident on load, see domain.postmortem)."""

from __future__ import annotations

from tinydb import TinyDB, where

from incident_tui.domain.postmortem import Postmortem
from incident_tui.store.repository import NotFoundError

POSTMORTEMS = "postmortems"

# What a hand-edited or damaged document raises on its way to a Postmortem.
_UNREADABLE = (KeyError, ValueError, TypeError, AttributeError)


class PostmortemRepository:
    """Reads and writes postmortems as domain objects."""

    def __init__(self, db: TinyDB) -> None:
        self.db = db
        #: One line per document the last :meth:`all` call skipped because it could not be read.
        self.skipped: list[str] = []

    def _file(self) -> str:
        path = getattr(self.db.storage, "path", None)
        return path if isinstance(path, str) and path else "the database"

    def find(self, incident_id: str) -> Postmortem | None:
        """The stored postmortem of ``incident_id``, or None when nothing was saved for it yet."""
        doc = self.db.table(POSTMORTEMS).get(where("incident_id") == incident_id)
        if doc is None or isinstance(doc, list):
            return None
        return Postmortem.from_dict(doc)

    def get(self, incident_id: str) -> Postmortem:
        """The stored postmortem of ``incident_id``; NotFoundError when there is none."""
        found = self.find(incident_id)
        if found is None:
            raise NotFoundError(f"no postmortem saved for {incident_id}")
        return found

    def save(self, postmortem: Postmortem) -> None:
        """Write ``postmortem`` over the stored one of its incident (or add it)."""
        self.db.table(POSTMORTEMS).upsert(postmortem.to_dict(), where("incident_id") == postmortem.incident_id)

    def all(self) -> list[Postmortem]:
        """Every readable postmortem; one that cannot be read is skipped and named in :attr:`skipped`."""
        self.skipped = []
        out: list[Postmortem] = []
        for doc in self.db.table(POSTMORTEMS):
            try:
                out.append(Postmortem.from_dict(doc))
            except _UNREADABLE as exc:
                owner = doc.get("incident_id")
                name = f" of {owner}" if isinstance(owner, str) and owner else ""
                problem = f"lacks field {exc.args[0]!r}" if isinstance(exc, KeyError) else f"cannot be read ({exc})"
                self.skipped.append(" ".join(f"postmortem document {doc.doc_id}{name} in {self._file()} "
                                             f"{problem}".split()))
        return out


__all__ = ["POSTMORTEMS", "PostmortemRepository"]
