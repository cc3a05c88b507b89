"""Outside text is data: one home for making it safe to store and safe to show.

Two functions, two jobs:

- ``clean`` is for storage. It removes terminal escape sequences and control characters
  (keeping newline and tab), turns Unicode line/paragraph separators into the line breaks
  they render as, and replaces lone surrogates (undecodable bytes) with U+FFFD.
- ``neutralise`` is for output (CLI text, logs, exports, a diff on a terminal). It removes
  nothing: every character a terminal or a text renderer would *apply* is shown instead —
  C0 controls as their control pictures (ESC → ␛), C1 controls, bidi overrides/isolates,
  line/paragraph separators and zero-width marks as ``<U+XXXX>``, undecodable bytes as
  ``<0xFF>``. Newline and tab pass unless ``newlines=False`` (a one-line log or error).

``json_safe`` does the same for text that is already JSON: the characters above become
``\\uXXXX`` escapes, so the document stays valid JSON and decodes to the same data.
"""

from __future__ import annotations

import re
from functools import cache

# CSI, OSC (terminated by BEL or ST), other two-byte escapes, and C0/C1 controls but tab and newline.
# Compiled by the first clean(): `list` and `show` only show text and never pay for it.
_ANSI = (
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b"
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]"
)

# Unicode line and paragraph separators: editors, Jira and JavaScript treat them as line
# breaks, so stored text has line breaks there (and a one-line field a space).
_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n"})
_SURROGATES = "[\ud800-\udfff]"


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# What a terminal or a text renderer applies rather than shows:
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_UNSAFE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and newline, DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\u2028\u2029"  # line and paragraph separators
    "\u200b\u2060\ufeff"  # zero-width space, word joiner, BOM: invisible in a line
    "\ud800-\udfff"  # lone surrogates: bytes that were not UTF-8 (surrogateescape)
)
# Joiners and invisible operators: kept in ordinary output (emoji sequences need ZWJ), shown
# where a line must read exactly as it compares (a diff).
_ZERO_WIDTH_CLASS = "\u200c\u200d\u2061-\u2064"
_PATTERNS: dict[tuple[bool, bool], re.Pattern[str]] = {}
_SHOWN: dict[str, str] = {}


def _pattern(newlines: bool, zero_width: bool) -> re.Pattern[str]:
    """The unsafe-character class for these options, compiled on first use (a command uses one or two)."""
    pattern = _PATTERNS.get((newlines, zero_width))
    if pattern is None:
        pattern = _PATTERNS[newlines, zero_width] = re.compile(
            f"[{_UNSAFE_CLASS}{'' if newlines else chr(10) + chr(9)}{_ZERO_WIDTH_CLASS if zero_width else ''}]"
        )
    return pattern


def clean(text: str, *, multiline: bool = True) -> str:
    """Text fit to store: no escape sequences or control characters, no lone surrogates.

    Tabs and newlines survive (CR is dropped from CRLF; U+2028/U+2029 become newlines);
    with ``multiline=False`` newlines and tabs become spaces, for one-line fields such as titles.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_SEPARATORS)
    text = _compiled(_ANSI).sub("", text)
    surrogates = _compiled(_SURROGATES)
    if surrogates.search(text):
        text = surrogates.sub("\ufffd", text)
    if not multiline:
        text = " ".join(text.replace("\t", " ").split("\n")).strip()
    return text


def _show(char: str) -> str:
    shown = _SHOWN.get(char)
    if shown is None:
        code = ord(char)
        if code < 0x20:
            shown = chr(0x2400 + code)  # ␛ ␇ ␊ ␉ …
        elif code == 0x7F:
            shown = "\u2421"  # ␡
        elif 0xDC80 <= code <= 0xDCFF:
            shown = f"<0x{code - 0xDC00:02X}>"  # a byte surrogateescape kept
        else:
            shown = f"<U+{code:04X}>"
        _SHOWN[char] = shown
    return shown


def neutralise(text: str, *, newlines: bool = True, zero_width: bool = False) -> str:
    """Text fit to show: every control, bidi or invisible character is made visible, not applied.

    Characters that are safe come back unchanged (``neutralise(s) == s`` for ordinary text).
    With ``newlines=False`` newline and tab are shown too (␊ ␉): one line stays one line.
    With ``zero_width=True`` joiners (ZWJ, ZWNJ) and invisible operators are shown as well.
    """
    pattern = _pattern(newlines, zero_width)
    if pattern.search(text) is None:
        return text
    return pattern.sub(lambda m: _show(m.group()), text)


def visible(text: str) -> str:
    """One line of outside text for a log or an error message: ``neutralise(text, newlines=False)``."""
    return neutralise(text, newlines=False)


def is_safe(text: str, *, newlines: bool = True) -> bool:
    """Whether ``text`` has nothing ``neutralise`` would change."""
    return _pattern(newlines, False).search(text) is None


def json_safe(document: str) -> str:
    """A JSON document with the characters ``neutralise`` shows written as ``\\uXXXX`` escapes.

    Inside JSON they can only occur in strings, where the escape means the same character:
    ``json.loads(json_safe(doc)) == json.loads(doc)``. (The encoder escapes C0 itself.)
    """
    unsafe = _pattern(True, False)
    if unsafe.search(document) is None:
        return document
    return unsafe.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
