"""Who else is looking at an incident: heartbeats of running dashboards, and what counts as stale."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

STALE_AFTER = timedelta(seconds=30)
"""A dashboard that has not beaten for this long is gone (killed, suspended, lost its network)."""

BEAT_EVERY = timedelta(seconds=5)

_USER_RE = re.compile(r"[A-Za-z0-9._-]{1,40}")


@dataclass(frozen=True)
class Presence:
    """One running dashboard: who, where (terminal or browser), which incident it shows, when it last beat."""

    session: str
    user: str
    where: str  # "terminal" | "browser"
    incident_id: str | None
    at: datetime


def valid_user(name: str) -> bool:
    """A user name a browser tab may claim: letters, digits, dot, dash, underscore (at most 40)."""
    return bool(_USER_RE.fullmatch(name))


def viewers(entries: list[Presence], *, me: str, incident_id: str | None, now: datetime) -> list[Presence]:
    """The other live dashboards on ``incident_id``, one per user and place, freshest first."""
    if incident_id is None:
        return []
    seen: set[tuple[str, str]] = set()
    out: list[Presence] = []
    for p in sorted(entries, key=lambda p: p.at, reverse=True):
        if p.session == me or p.incident_id != incident_id or now - p.at > STALE_AFTER:
            continue
        key = (p.user, p.where)
        if key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


def viewers_line(others: list[Presence]) -> str:
    """ "bo, cy viewing" — a browser viewer is marked so a commander knows who is remote."""
    if not others:
        return ""
    names = [p.user + (" (web)" if p.where == "browser" else "") for p in others]
    if len(names) > 3:
        names = names[:3] + [f"+{len(names) - 3}"]
    return ", ".join(names) + " viewing"
