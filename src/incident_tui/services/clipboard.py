"""Copy text to the system clipboard through pyperclip, and say honestly whether it worked.

pyperclip runs xclip, xsel, wl-copy or pbcopy underneath. Its xclip/xsel/wl-copy paths ignore
the tool's exit status, so a copy to an unreachable display "succeeds" silently; reading the
clipboard back is the only proof, and a copy that cannot be read back is reported as failed.
The caller then falls back to OSC 52 (the TUI through Textual, the CLI only on a terminal).

No textual import here: the CLI uses it too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

INSTALL_HINT = "install xclip or xsel (X11) or wl-clipboard (Wayland)"
TOOLS = ("xclip", "xsel", "wl-copy")


@dataclass(frozen=True)
class CopyResult:
    """``method`` is the tool that took the text ("xclip", "wl-copy", …) or "none"."""

    method: str
    ok: bool
    message: str


def _normalise(text: str) -> str:
    # Clipboards may turn LF into CRLF or drop a trailing newline (wl-paste -n does).
    return text.replace("\r\n", "\n").rstrip("\n")


def _mechanism(copy_function) -> str:
    name = getattr(copy_function, "__name__", "") or "pyperclip"
    name = name.removeprefix("copy_")
    return {"wl": "wl-copy", "osx_pbcopy": "pbcopy", "osx_pyobjc": "pyobjc", "windows_clipboard": "windows"}.get(
        name, name
    )


class _QuietSubprocess:
    """The ``subprocess`` pyperclip sees: its tools' stderr goes to /dev/null.

    pyperclip starts xclip/xsel/wl-copy with our stderr, so "Error: Can't open display" would
    land on the dashboard's screen (Textual draws on stderr) or add a second line to the CLI's
    one-line error. Everything else is the real module.
    """

    def __getattr__(self, name: str):
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args, **kwargs):  # noqa: N802 - the name pyperclip calls
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        return subprocess.Popen(*args, **kwargs)

    @staticmethod
    def check_call(*args, **kwargs):
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        return subprocess.check_call(*args, **kwargs)


def _pyperclip():
    import pyperclip

    if not isinstance(getattr(pyperclip, "subprocess", None), _QuietSubprocess):
        pyperclip.subprocess = _QuietSubprocess()
    return pyperclip


def copy_text(text: str) -> CopyResult:
    """Put ``text`` on the system clipboard; never raises.

    On failure the message is one line that says why: no display to reach (tools or not), a tool
    that could not reach its display, or no tool at all (then what to install).
    """
    try:
        pyperclip = _pyperclip()
    except ImportError:  # pragma: no cover - a declared dependency, but say so rather than crash
        return CopyResult("none", False, "pyperclip is not installed; " + INSTALL_HINT)
    try:
        pyperclip.copy(text)
        method = _mechanism(pyperclip.copy)
    except pyperclip.PyperclipException:
        return CopyResult("none", False, why_no_clipboard())
    except Exception as exc:  # a tool that vanished, a broken pipe, a display that refused us
        return CopyResult("none", False, f"clipboard copy failed ({_one_line(exc)}); {why_no_clipboard()}")
    try:
        back = pyperclip.paste()
    except Exception as exc:
        return CopyResult(method, False, f"{method} could not be read back ({_one_line(exc)}); {_display_words()}")
    if _normalise(back or "") != _normalise(text):
        return CopyResult(method, False, f"{method} did not keep the text; {_display_words()}")
    return CopyResult(method, True, f"copied with {method}")


def _headless() -> bool:
    """No X11 or Wayland display named in the environment (Linux and the BSDs; macOS needs none)."""
    if sys.platform == "darwin" or sys.platform.startswith(("win", "cygwin")):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _installed() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool)]


def why_no_clipboard() -> str:
    """One line: why no system clipboard took the text, in the terms that help fix it."""
    tools = _installed()
    if _headless():
        unset = "no display is reachable (DISPLAY and WAYLAND_DISPLAY are not set"
        if tools:
            return f"{unset}), so {' and '.join(tools)} cannot reach a clipboard"
        return f"{unset}) and no clipboard tool is installed"
    if tools:
        return f"{' and '.join(tools)} could not reach the clipboard; {_display_words()}"
    return f"no clipboard tool found: {INSTALL_HINT}"


def _display_words() -> str:
    if _headless():
        return "no display is reachable (DISPLAY and WAYLAND_DISPLAY are not set)"
    wayland, x11 = os.environ.get("WAYLAND_DISPLAY"), os.environ.get("DISPLAY")
    named = f"Wayland display {wayland}" if wayland else f"display {x11}"
    return f"is the {named} reachable from here?"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def osc52(text: str) -> str:
    """The OSC 52 sequence that asks the terminal to put ``text`` on its clipboard."""
    import base64

    return f"\x1b]52;c;{base64.b64encode(text.encode('utf-8')).decode('ascii')}\a"
