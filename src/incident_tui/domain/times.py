"""Parsing what a responder types for a time, and printing durations the way they read them."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from incident_tui.domain.errors import IncidentTuiError

_REL_RE = re.compile(r"^-\s*(\d+)\s*(s|sec|m|min|h|hr|d)$", re.IGNORECASE)
_HM_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_UNITS = {"s": "seconds", "sec": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "hr": "hours", "d": "days"}


class TimeParseError(IncidentTuiError, ValueError):
    """A time the user typed that we could not read; the message says what is accepted."""


class BackdateError(TimeParseError):
    """A backdated time the timeline will not take as it is.

    ``confirmable`` is True when a yes from the user lifts it (before impact start: a precursor such
    as the deploy that caused it is worth stamping); a time in the future is never confirmable.
    """

    def __init__(self, message: str, *, confirmable: bool) -> None:
        super().__init__(message)
        self.confirmable = confirmable


# A clock a few seconds apart from another terminal's is not "the future".
FUTURE_TOLERANCE = timedelta(minutes=1)
# Without a known impact start, impact began "no later than detection": the hour before is open.
UNKNOWN_START_WINDOW = timedelta(hours=1)


def check_backdate(
    at: datetime, *, now: datetime, impact_start: datetime | None, detected_at: datetime, typed: str = ""
) -> None:
    """Refuse a backdated event time in the future; ask about one before the incident began.

    The rule: an incident's events happen between its start and now. The start is the impact
    start when one is known; when it is not, the hour before detection still counts, since impact
    began then at the latest. Earlier than that needs a yes (``BackdateError.confirmable``): a
    precursor, such as the deploy that caused it, is worth stamping, but never by accident —
    "14:32" typed at 09:31 reads as yesterday 14:32 (see ``parse_when``), right just after
    midnight, wrong in the morning of a new incident. ``typed`` names the user's own words.
    """
    words = f"{typed!r} is " if typed else ""
    if at > now + FUTURE_TOLERANCE:
        raise BackdateError(
            f"{words}{_stamp(at, now)}, in the future (now {_stamp(now, now)}): give a time before now",
            confirmable=False,
        )
    if impact_start is not None and at < impact_start:
        raise BackdateError(
            f"{words}{_stamp(at, now)}, {format_duration(impact_start - at)} before impact started "
            f"({_stamp(impact_start, now)})",
            confirmable=True,
        )
    if impact_start is None and at < detected_at - UNKNOWN_START_WINDOW:
        raise BackdateError(
            f"{words}{_stamp(at, now)}, {format_duration(detected_at - at)} before detection "
            f"({_stamp(detected_at, now)}) and no impact start is set",
            confirmable=True,
        )


def _stamp(when: datetime, now: datetime) -> str:
    local = when.astimezone(now.tzinfo)
    return f"{local:%H:%M}" if local.date() == now.date() else f"{local:%b %d %H:%M}"


def local_now() -> datetime:
    return datetime.now().astimezone()


def parse_when(value: str, now: datetime) -> datetime:
    """Read "-15m", "2h" ago forms, "14:32" (today, or yesterday if that is in the future) or ISO 8601.

    ``now`` must be timezone-aware; its zone is used for wall-clock and naive ISO inputs.
    """
    text = value.strip()
    if not text:
        raise TimeParseError("empty time")
    match = _REL_RE.match(text)
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2).lower()]
        return now - timedelta(**{unit: amount})
    match = _HM_RE.match(text)
    if match:
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise TimeParseError(f"not a time of day: {text!r}")
        candidate = datetime.combine(now.date(), time(hour, minute, second), tzinfo=now.tzinfo)
        if candidate > now + timedelta(minutes=1):
            candidate -= timedelta(days=1)
        return candidate
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TimeParseError(
            f"cannot read time {text!r}: use -15m, -2h, 14:32 or ISO 8601 (2026-11-25T14:32+01:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=now.tzinfo)
    return parsed


def split_time_prefix(text: str, now: datetime) -> tuple[datetime | None, str]:
    """A note may start with a time ("14:32 saw it", "-5m rollback done"): split it off.

    Returns (time or None, the rest of the text). Only the first word is considered.
    """
    head, _, rest = text.strip().partition(" ")
    if not rest.strip():
        return None, text.strip()
    if _REL_RE.match(head) or _HM_RE.match(head) or (len(head) >= 16 and head[:4].isdigit() and "T" in head):
        try:
            return parse_when(head, now), rest.strip()
        except TimeParseError:
            return None, text.strip()
    return None, text.strip()


def format_duration(delta: timedelta | None) -> str:
    """Compact and readable: 45s, 12m, 3h 04m, 1d 02h. None gives an em dash."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m"
    return f"{sign}{secs}s"


def utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)
