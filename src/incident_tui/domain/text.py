"""User text is data: strip what a terminal would interpret before it is shown or stored."""

from __future__ import annotations

import re

# CSI, OSC (terminated by BEL or ST), other two-byte escapes, and C0/C1 controls but tab and newline.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b"
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]"
)


def clean(text: str, *, multiline: bool = True) -> str:
    """Remove terminal escape sequences and control characters from user text.

    Tabs and newlines survive (CR is dropped from CRLF); with ``multiline=False`` newlines
    and tabs become spaces, for one-line fields such as titles.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI_RE.sub("", text)
    if not multiline:
        text = " ".join(text.replace("\t", " ").split("\n")).strip()
    return text
