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

# A lone surrogate (JSON's "\ud800", a non-UTF-8 byte read with surrogateescape) cannot be stored
# as UTF-8: it becomes the replacement character rather than an error that loses the whole text.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def clean(text: str, *, multiline: bool = True) -> str:
    """Remove terminal escape sequences and control characters from user text.

    Tabs and newlines survive (CR is dropped from CRLF); with ``multiline=False`` newlines
    and tabs become spaces, for one-line fields such as titles. Lone surrogates become U+FFFD.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI_RE.sub("", text)
    text = _SURROGATE_RE.sub("\ufffd", text)
    if not multiline:
        text = " ".join(text.replace("\t", " ").split("\n")).strip()
    return text
