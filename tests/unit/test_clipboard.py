"""services/clipboard: pyperclip first, and a failure is always reported, never swallowed."""

from __future__ import annotations

import base64
import os
import shutil
import sys

import pyperclip
import pytest

from incident_tui.services.clipboard import copy_text, osc52


@pytest.fixture
def fake_clipboard(monkeypatch):
    """A pyperclip whose copy/paste are plain functions named like pyperclip's own."""
    store = {}

    def copy_xclip(text):
        store["text"] = text

    def paste_xclip():
        return store.get("text", "")

    monkeypatch.setattr(pyperclip, "copy", copy_xclip)
    monkeypatch.setattr(pyperclip, "paste", paste_xclip)
    return store


def test_copy_reports_the_tool_used(fake_clipboard):
    result = copy_text("hello\nworld\n")
    assert result.ok and result.method == "xclip" and result.message == "copied with xclip"
    assert fake_clipboard["text"] == "hello\nworld\n"


def _no_mechanism(text):
    raise pyperclip.PyperclipException("Pyperclip could not find a copy/paste mechanism for your system.")


def _tools(monkeypatch, *installed):
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}" if name in installed else None)


def test_no_clipboard_tool_names_what_to_install(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    _tools(monkeypatch)
    monkeypatch.setattr(pyperclip, "copy", _no_mechanism)
    result = copy_text("x")
    assert not result.ok and result.method == "none"
    for tool in ("xclip", "xsel", "wl-clipboard"):
        assert tool in result.message
    assert "\n" not in result.message


def test_any_other_failure_is_reported_too(monkeypatch):
    def copy_xsel(text):
        raise FileNotFoundError(2, "No such file or directory", "xsel")

    monkeypatch.setattr(pyperclip, "copy", copy_xsel)
    result = copy_text("x")
    assert not result.ok and "xsel" in result.message and "\n" not in result.message


def test_a_copy_that_did_not_stick_is_a_failure(monkeypatch):
    # xclip with an unreachable display exits 1, which pyperclip ignores: only reading back tells.
    monkeypatch.setattr(pyperclip, "copy", lambda text: None)
    monkeypatch.setattr(pyperclip, "paste", lambda: "")
    result = copy_text("the postmortem")
    assert not result.ok and "did not keep the text" in result.message


def test_paste_failure_is_a_failure(monkeypatch):
    def paste():
        raise pyperclip.PyperclipException("no paste")

    monkeypatch.setattr(pyperclip, "copy", lambda text: None)
    monkeypatch.setattr(pyperclip, "paste", paste)
    assert not copy_text("x").ok


def test_line_endings_and_trailing_newline_do_not_count_as_a_difference(monkeypatch):
    monkeypatch.setattr(pyperclip, "copy", lambda text: None)
    monkeypatch.setattr(pyperclip, "paste", lambda: "a\r\nb")
    assert copy_text("a\nb\n").ok


def test_osc52_sequence():
    seq = osc52("héllo")
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\a")
    assert base64.b64decode(seq[7:-1]).decode("utf-8") == "héllo"


@pytest.mark.skipif(
    not (os.environ.get("DISPLAY") and (shutil.which("xclip") or shutil.which("xsel"))),
    reason="needs an X display and xclip or xsel (e.g. Xvfb :99 & DISPLAY=:99)",
)
def test_real_system_clipboard_round_trip():
    text = "postmortem ✓ | *bold* <x>\nline two"
    result = copy_text(text)
    assert result.ok, result.message
    assert pyperclip.paste() == text


def test_clipboard_tools_cannot_write_on_our_stderr(monkeypatch, capfd):
    # xclip prints "Error: Can't open display" on the stderr it inherits: the TUI's screen.
    def copy_xclip(text):
        p = pyperclip.subprocess.Popen(["sh", "-c", "echo noise-from-xclip >&2; cat >/dev/null"],
                                       stdin=pyperclip.subprocess.PIPE, close_fds=True)
        p.communicate(input=text.encode())

    monkeypatch.setattr(pyperclip, "copy", copy_xclip)
    monkeypatch.setattr(pyperclip, "paste", lambda: "")
    copy_text("x")  # installs the quiet subprocess before the tool runs
    result = copy_text("x")
    assert not result.ok
    assert "noise-from-xclip" not in capfd.readouterr().err


@pytest.mark.skipif(not shutil.which("xclip"), reason="needs xclip installed")
def test_unreachable_display_is_a_failure_not_a_silent_success(monkeypatch, capfd):
    # A real xclip and a display nobody serves: pyperclip ignores xclip's exit status.
    monkeypatch.setenv("DISPLAY", ":97")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(pyperclip, "copy", pyperclip.lazy_load_stub_copy)
    monkeypatch.setattr(pyperclip, "paste", pyperclip.lazy_load_stub_paste)
    result = copy_text("the postmortem")
    assert not result.ok and result.method == "xclip"
    assert "display" in result.message
    assert capfd.readouterr().err == ""


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS needs no display variable")
def test_without_a_display_the_message_says_so_not_install_xclip(monkeypatch):
    # xclip installed, no DISPLAY: it used to say "install xclip or xsel".
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    _tools(monkeypatch, "xclip")
    monkeypatch.setattr(pyperclip, "copy", _no_mechanism)
    result = copy_text("x")
    assert not result.ok and "\n" not in result.message
    assert "no display is reachable" in result.message and "xclip" in result.message
    assert "install" not in result.message
    _tools(monkeypatch)
    assert "no clipboard tool is installed" in copy_text("x").message


def test_a_tool_that_cannot_reach_its_display_names_the_display(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":97")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    _tools(monkeypatch, "xclip")

    def copy_xclip(text):
        pass

    monkeypatch.setattr(pyperclip, "copy", copy_xclip)
    monkeypatch.setattr(pyperclip, "paste", lambda: "")
    result = copy_text("x")
    assert not result.ok and result.method == "xclip"
    assert "display :97" in result.message and "install" not in result.message
