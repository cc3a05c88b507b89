"""Heartbeats of running dashboards, beside the database and outside its journal.

Each dashboard owns one small file ``<db>.presence/<session>.json`` and overwrites it in place
(temp file + rename) every few seconds; it removes it on exit, and a reader ignores (and after a
while deletes) the files of dashboards that died without saying so. Keeping heartbeats out of
the journal means ten open dashboards never grow it, trigger a compaction or make the others
reload their incidents.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from datetime import datetime, timedelta
from pathlib import Path

from incident_tui.domain.presence import Presence

_SESSION_RE = re.compile(r"[0-9a-f]{32}")
_MAX_BYTES = 4096
SWEEP_AFTER = timedelta(minutes=10)


class PresenceBoard:
    """The heartbeat files of one database (its real path: a symlinked --db shares the board)."""

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        real = Path(os.path.realpath(db_path))
        self.dir = real.with_name(real.name + ".presence")

    def _ensure_dir(self) -> None:
        try:
            os.mkdir(self.dir, 0o700)
        except FileExistsError:
            pass
        info = os.lstat(self.dir)
        if not stat.S_ISDIR(info.st_mode):  # a symlink or a file planted there: never write through it
            raise OSError(f"{self.dir} is not a directory")

    def beat(self, p: Presence) -> None:
        """Write (replace) this dashboard's heartbeat."""
        if not _SESSION_RE.fullmatch(p.session):
            raise ValueError(f"bad session id {p.session!r}")
        self._ensure_dir()
        body = json.dumps(
            {"session": p.session, "user": p.user, "where": p.where, "incident": p.incident_id,
             "at": p.at.isoformat()}
        ).encode()
        tmp = self.dir / f".{p.session}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, body)
        finally:
            os.close(fd)
        os.replace(tmp, self.dir / f"{p.session}.json")

    def leave(self, session: str) -> None:
        """Remove this dashboard's heartbeat (on exit)."""
        if _SESSION_RE.fullmatch(session):
            try:
                os.unlink(self.dir / f"{session}.json")
            except FileNotFoundError:
                pass

    def read(self, now: datetime | None = None) -> list[Presence]:
        """Every heartbeat on the board; files too old to matter are deleted on the way."""
        try:
            names = os.listdir(self.dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        out: list[Presence] = []
        for name in names:
            session = name[:-5] if name.endswith(".json") else ""
            if not _SESSION_RE.fullmatch(session):
                continue
            p = self._read_one(self.dir / name)
            if p is None:
                continue
            if now is not None and now - p.at > SWEEP_AFTER:
                self.leave(session)
                continue
            out.append(p)
        return out

    @staticmethod
    def _read_one(path: Path) -> Presence | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            data = json.loads(os.read(fd, _MAX_BYTES))
            return Presence(
                session=str(data["session"]),
                user=str(data["user"])[:40],
                where=str(data["where"])[:10],
                incident_id=None if data.get("incident") is None else str(data["incident"])[:40],
                at=datetime.fromisoformat(data["at"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        finally:
            os.close(fd)
