"""The prompt registry's tables: ``prompt_versions`` (one document per version, text included)
and ``label_moves`` (one per move of a label, never rewritten).

One prompt's versions and moves are found through an index prompt id -> doc ids, valid while
the storage's change count of its table is the one it was built for, so reading one prompt
never goes through every prompt's documents.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tinydb import TinyDB

from incident_tui.domain.prompts import LabelMove, PromptVersion, UnknownPrompt, UnknownVersion, ordered
from incident_tui.store.stores import atomic

VERSIONS = "prompt_versions"
MOVES = "label_moves"


class PromptRepository:
    """Reads and writes prompt versions and label moves."""

    def __init__(self, db: TinyDB) -> None:
        self.db = db
        # table -> (the storage's change count it is valid for, prompt id -> doc ids in table order)
        self._by_prompt: dict[str, tuple[int, dict[str, list[str]]]] = {}

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One atomic commit (see :func:`incident_tui.store.stores.atomic`)."""
        return atomic(self.db)

    # --- reading -----------------------------------------------------------------------

    def _change_count(self, table: str) -> int | None:
        change_count = getattr(self.db.storage, "change_count", None)
        return change_count(table) if change_count is not None else None

    def _raw(self, table: str) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = (self.db.storage.read() or {}).get(table, {})
        return data

    def _prompt_index(self, table: str) -> dict[str, list[str]] | None:
        """Prompt id -> doc ids of ``table``; None on a storage without change counts."""
        count = self._change_count(table)
        if count is None:
            return None
        cached = self._by_prompt.get(table)
        if cached is not None and cached[0] == count:
            return cached[1]
        index: dict[str, list[str]] = {}
        for key, doc in self._raw(table).items():
            prompt_id = doc.get("prompt_id")
            if isinstance(prompt_id, str):
                index.setdefault(prompt_id, []).append(key)
        self._by_prompt[table] = (count, index)
        return index

    def _docs_of(self, table: str, prompt_id: str) -> list[dict[str, Any]]:
        index = self._prompt_index(table)
        if index is None:  # a plain TinyDB: scan
            return [dict(d) for d in self.db.table(table).all() if d.get("prompt_id") == prompt_id]
        raw = self._raw(table)
        return [raw[key] for key in index.get(prompt_id, ())]

    def _version_docs(self) -> list[dict[str, Any]]:
        if self._change_count(VERSIONS) is None:
            return [dict(d) for d in self.db.table(VERSIONS).all()]
        return list(self._raw(VERSIONS).values())  # read-only, no copies

    def versions(self, prompt_id: str) -> list[PromptVersion]:
        """Every version of ``prompt_id``, oldest first ([] for an unknown prompt)."""
        return sorted((PromptVersion.from_doc(d) for d in self._docs_of(VERSIONS, prompt_id)), key=lambda v: v.version)

    def all_versions(self) -> list[PromptVersion]:
        """Every version of every prompt, in table order."""
        return [PromptVersion.from_doc(d) for d in self._version_docs()]

    def registry(self) -> dict[str, set[int]]:
        """Every registered prompt id with its version numbers (texts are not read)."""
        out: dict[str, set[int]] = {}
        for doc in self._version_docs():
            out.setdefault(doc["prompt_id"], set()).add(int(doc["version"]))
        return out

    def get(self, prompt_id: str, version: int) -> PromptVersion:
        """One version; UnknownPrompt / UnknownVersion if it is not registered."""
        docs = self._docs_of(VERSIONS, prompt_id)
        if not docs:
            raise UnknownPrompt(f"no prompt {prompt_id!r} is registered")
        for doc in docs:
            if int(doc["version"]) == int(version):
                return PromptVersion.from_doc(doc)
        numbers = sorted(int(d["version"]) for d in docs)
        known = f"v{numbers[0]}" if len(numbers) == 1 else f"v{numbers[0]}–v{numbers[-1]}"
        raise UnknownVersion(f"{prompt_id} has no version {version} (it has {known})")

    def moves(self, prompt_id: str) -> list[LabelMove]:
        """Every label move of ``prompt_id``, in the order they were made."""
        return ordered(LabelMove.from_doc(d) for d in self._docs_of(MOVES, prompt_id))

    # --- writing -----------------------------------------------------------------------

    def add_versions(self, versions: list[PromptVersion]) -> None:
        """Store new versions (call inside :meth:`transaction` for one commit)."""
        self._insert(VERSIONS, [v.to_doc() for v in versions])

    def add_move(self, move: LabelMove) -> None:
        """Store one label move."""
        self._insert(MOVES, [move.to_doc()])

    def _insert(self, table: str, docs: list[dict[str, Any]]) -> None:
        """Insert ``docs``; the prompt index follows when nothing else changed the table meanwhile."""
        if not docs:
            return
        before = self._change_count(table)
        cached = self._by_prompt.get(table)
        target = self.db.table(table)
        ids = target.insert_multiple(docs) if len(docs) != 1 else [target.insert(docs[0])]
        if (cached is not None and before is not None and cached[0] == before
                and self._change_count(table) == before + len(docs)):
            index = cached[1]
            for doc, doc_id in zip(docs, ids):
                if isinstance(doc.get("prompt_id"), str):
                    index.setdefault(doc["prompt_id"], []).append(str(doc_id))
            self._by_prompt[table] = (before + len(docs), index)
