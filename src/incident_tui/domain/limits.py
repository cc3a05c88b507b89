"""How much one field may hold.

A single 5 MB note made every screen that shows its incident take seconds per key, and nobody
reads 5 MB on a timeline. Long text (notes, hypotheses, root causes, samples, postmortem fields)
is capped in UTF-8 bytes; one-line names (titles, prompt ids, people) in characters.

Over the cap, what a person typed is refused with a message giving the limit and the size, so
nothing is cut behind their back. What a machine sent (alert payloads, which are never dropped)
is cut instead, with a visible marker saying how much went.
"""

from __future__ import annotations

from collections.abc import Mapping
from incident_tui.domain.errors import IncidentTuiError

MAX_TEXT_BYTES = 64 * 1024  # a note, a hypothesis, a sample, a postmortem section
MAX_LINE_CHARS = 500  # a title, a prompt id, a person, a one-line postmortem field


class FieldTooLarge(IncidentTuiError, ValueError):
    """A field over its limit; the message names the field, the limit and the size (one line)."""


def format_size(n_bytes: int) -> str:
    """A byte count for people: 812 bytes, 64 KiB, 5.0 MiB."""
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    if n_bytes < 1024 * 1024:
        return f"{n_bytes / 1024:.0f} KiB" if n_bytes % 1024 == 0 else f"{n_bytes / 1024:.1f} KiB"
    return f"{n_bytes / (1024 * 1024):.1f} MiB"


def text_bytes(text: str) -> int:
    """The UTF-8 size of ``text`` (lone surrogates count as the 3 bytes they would take escaped)."""
    return len(text.encode("utf-8", "surrogatepass"))


def _text_fits(text: str, limit: int) -> bool:
    # No character takes more than 4 bytes: short texts need no encoding to know they fit.
    return len(text) * 4 <= limit or (len(text) <= limit and text_bytes(text) <= limit)


def check_text(field: str, text: str | None, limit: int = MAX_TEXT_BYTES) -> None:
    """Refuse a long text over ``limit`` UTF-8 bytes with FieldTooLarge."""
    if text is None or _text_fits(text, limit):
        return
    raise FieldTooLarge(
        f"{field} is too long: {format_size(text_bytes(text))} (the limit is {format_size(limit)}); "
        f"shorten it, or keep the full text in a file and give its path"
    )


def check_line(field: str, text: str | None, limit: int = MAX_LINE_CHARS) -> None:
    """Refuse a one-line value over ``limit`` characters with FieldTooLarge."""
    if text is None or len(text) <= limit:
        return
    raise FieldTooLarge(f"{field} is too long: {len(text):,} characters (the limit is {limit:,})")


def check_fields(lines: Mapping[str, str | None] | None = None, texts: Mapping[str, str | None] | None = None) -> None:
    """Check several fields at once: ``lines`` against MAX_LINE_CHARS, ``texts`` against MAX_TEXT_BYTES."""
    for field, value in (lines or {}).items():
        check_line(field, value)
    for field, value in (texts or {}).items():
        check_text(field, value)


def truncation_marker(dropped_bytes: int) -> str:
    """What replaces the cut end of a text: "… [truncated 4.9 MiB]"."""
    return f"… [truncated {format_size(dropped_bytes)}]"


# Room kept for the marker: its longest form ("… [truncated 1023.9 MiB]" is 26 bytes) and some.
_MARKER_ROOM = 32


def cap_text(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, marker included, when it is longer.

    For what must be kept though it is too long (an alert): the marker says how much went.
    """
    if _text_fits(text, limit):
        return text
    raw = text.encode("utf-8", "surrogatepass")
    kept = raw[: max(limit - _MARKER_ROOM, 0)].decode("utf-8", "ignore")  # never half a character
    return kept + truncation_marker(len(raw) - text_bytes(kept))


def cap_chars(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marker included, when it is longer."""
    if len(text) <= limit:
        return text
    kept = text[: max(limit - _MARKER_ROOM, 0)]
    return kept + truncation_marker(text_bytes(text) - text_bytes(kept))
