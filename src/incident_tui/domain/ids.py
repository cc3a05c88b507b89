"""Incident ids: ``INC-YYYYMMDD-NNN``, numbered per day."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

INCIDENT_ID_RE = re.compile(r"^INC-(\d{8})-(\d{3,})$")


def format_incident_id(day: date, number: int) -> str:
    return f"INC-{day:%Y%m%d}-{number:03d}"


def parse_incident_id(value: str) -> tuple[date, int] | None:
    """Split an id into its day and number, or None when it is not an incident id."""
    match = INCIDENT_ID_RE.match(value.strip())
    if not match:
        return None
    digits = match.group(1)
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return day, int(match.group(2))


def next_incident_id(day: date, existing: Iterable[str]) -> str:
    """The next free id of ``day`` given every id already taken.

    The caller must hold the store's write lock while it reads ``existing`` and stores the
    result, which is what makes the id unique across processes.
    """
    highest = 0
    for value in existing:
        parsed = parse_incident_id(value)
        if parsed and parsed[0] == day:
            highest = max(highest, parsed[1])
    return format_incident_id(day, highest + 1)
