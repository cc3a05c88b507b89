"""Every repository of one opened database, in one bundle the services share.

The services take a :class:`Stores` (or, for scripts and tests, the opened database, from
which :meth:`Stores.of` builds one). Each repository is built the first time it is used, so a
command that only notes an incident never loads the prompt registry's code.
"""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeAlias

from tinydb import TinyDB

from incident_tui.store.repository import Repository
from incident_tui.store.storage import JournalStorage, transaction

if TYPE_CHECKING:
    from incident_tui.store.changes import ChangeRepository
    from incident_tui.store.postmortems import PostmortemRepository
    from incident_tui.store.prompts import PromptRepository

#: The opened database, as the layers above the store name it (they never import tinydb).
Database: TypeAlias = TinyDB


def atomic(db: TinyDB) -> contextlib.AbstractContextManager[Any]:
    """One atomic commit on a journaled db (``open_db``); a bare TinyDB (a script's, a
    MemoryStorage in a test) has no transactions and writes document by document."""
    if isinstance(db.storage, JournalStorage):
        return transaction(db)
    return contextlib.nullcontext(db)


def bulk_load(db: TinyDB) -> contextlib.AbstractContextManager[Any]:
    """A bulk load on a journaled db: no automatic compaction inside, one at the end
    (see JournalStorage.bulk); nothing special on a bare TinyDB."""
    if isinstance(db.storage, JournalStorage):
        return db.storage.bulk()
    return contextlib.nullcontext(db)


class Stores:
    """The repositories of one database: incidents (with their timelines and samples), prompts
    (versions and label moves), postmortems and changes."""

    def __init__(self, db: TinyDB) -> None:
        self.db = db

    @classmethod
    def of(cls, source: Stores | TinyDB) -> Stores:
        """``source`` itself when it is a bundle, else a new bundle over the database."""
        return source if isinstance(source, Stores) else cls(source)

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One atomic, durable commit on a journaled database; write by write on a bare TinyDB."""
        return atomic(self.db)

    def bulk_load(self) -> contextlib.AbstractContextManager[Any]:
        """Many commits in a row (seeding): compacted once at the end, not as the journal grows."""
        return bulk_load(self.db)

    @cached_property
    def incidents(self) -> Repository:
        return Repository(self.db)

    @cached_property
    def prompts(self) -> PromptRepository:
        from incident_tui.store.prompts import PromptRepository

        return PromptRepository(self.db)

    @cached_property
    def postmortems(self) -> PostmortemRepository:
        from incident_tui.store.postmortems import PostmortemRepository

        return PostmortemRepository(self.db)

    @cached_property
    def changes(self) -> ChangeRepository:
        from incident_tui.store.changes import ChangeRepository

        return ChangeRepository(self.db)
