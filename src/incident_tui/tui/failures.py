"""How the dashboard shows a failure: one line, literal text, and a bug said to be one.

Every error the product raises on purpose derives from ``IncidentTuiError`` and is shown as its
own message. ``OSError`` is expected too (a file the user named, a hook program, the clipboard):
it comes from the operating system, not from our code. Anything else is a bug: the responder sees
"bug: <type>: <message>" and the traceback goes to the log, never to the screen.
"""

from __future__ import annotations

import logging

from textual.dom import DOMNode

from incident_tui.domain.errors import IncidentTuiError

log = logging.getLogger("incident_tui")

# What a catch list in the TUI names: the product's errors, and the operating system's.
EXPECTED: tuple[type[Exception], ...] = (IncidentTuiError, OSError)


def is_bug(error: BaseException) -> bool:
    return not isinstance(error, EXPECTED)


def describe(error: BaseException) -> str:
    """The one line a notification shows for ``error``."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(error, OSError) and error.strerror:
        first = f"{error.strerror}{': ' + str(error.filename) if error.filename else ''}"
    if is_bug(error):
        return f"bug: {type(error).__name__}: {first}" if first else f"bug: {type(error).__name__}"
    return first or type(error).__name__


def show_failure(node: DOMNode, error: BaseException, *, timeout: float = 10) -> None:
    """Notify ``error`` as one literal line; log a bug's traceback."""
    if is_bug(error):
        log.error("unexpected error in the dashboard", exc_info=(type(error), error, error.__traceback__))
    node.app.notify(describe(error), severity="error", timeout=timeout, markup=False)
