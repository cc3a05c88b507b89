"""Keys in bursts, pastes and a terminal that goes away — in a real terminal (tmux)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PROGRAM = str(Path(sys.executable).parent / "incident-tui")


@pytest.fixture
def incident(terminal, run_cli, tmp_path):
    """One open incident on a registered prompt, and the dashboard showing it."""
    env = terminal.env
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You summarise support tickets.\n")
    assert run_cli(env, "prompts", "add", "support-summary", str(prompt)).returncode == 0
    declared = run_cli(env, "declare", "--title", "Summaries invent refunds", "--prompt", "support-summary",
                       "--severity", "P2", "--detected-by", "alert")
    assert declared.returncode == 0, declared.stderr
    incident_id = declared.stdout.strip()
    terminal.start("main", [PROGRAM])
    terminal.wait_for(incident_id)
    return incident_id


def timeline(run_cli, env, incident_id) -> list[dict]:
    result = run_cli(env, "timeline", incident_id, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def note_texts(run_cli, env, incident_id) -> list[str]:
    return [e["text"] for e in timeline(run_cli, env, incident_id) if e["kind"] == "note"]


def wait_until(condition, what: str, limit: float = 30.0):
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.1)


def test_a_burst_of_keys_lands_where_meant(terminal, run_cli, incident):
    env = terminal.env
    # m Enter Enter in one write: the picker opens and stays, nothing is stamped, nothing crashes.
    terminal.keys("m", "Enter", "Enter")
    screen = terminal.wait_for("Milestone ·")
    assert "press it again" in terminal.wait_for("press it again")
    kinds = [e["kind"] for e in timeline(run_cli, env, incident)]
    assert "milestone" not in kinds, screen
    terminal.keys("Escape")
    terminal.wait_for("Milestone ·", gone=True)

    # Letters right after n go to the note line (the e of "hello" does not open Edit), and five
    # notes typed in one burst are five notes, in order.
    typed = ["hello burst", "second note", "third: rollback asked", "fourth", "fifth and last"]
    terminal.type("n" + "\r".join(typed) + "\r")
    wait_until(lambda: note_texts(run_cli, env, incident)[-5:] == typed, "five notes in order")
    assert "Edit ·" not in terminal.screen()


def test_a_bracketed_paste_into_the_note_keeps_every_line(terminal, run_cli, incident, tmp_path):
    env = terminal.env
    terminal.keys("n")
    terminal.wait_for("stamp note")
    pasted = tmp_path / "paste.txt"
    pasted.write_text("429s from the provider since 14:02\nEU only, [b]not markup[/b]\nstill typing")
    terminal.tmux("load-buffer", "-b", "clip", str(pasted))
    terminal.tmux("paste-buffer", "-p", "-b", "clip", "-t", "e2e:main")  # -p: bracketed, as a terminal pastes
    wait_until(lambda: note_texts(run_cli, env, incident)[-2:] == [
        "429s from the provider since 14:02", "EU only, [b]not markup[/b]"], "a note per pasted line")
    terminal.wait_for("still typing")  # the last line has no line break yet: it waits in the note line
    terminal.type(" here")
    terminal.keys("Enter")
    wait_until(lambda: note_texts(run_cli, env, incident)[-1] == "still typing here", "the last line stamped")


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = next((line.split()[1] for line in status.splitlines() if line.startswith("State:")), "")
    return state not in ("Z", "X")  # a zombie has exited; only its parent's wait is missing


def _app_pid(marker: str) -> int:
    """The dashboard process: the one whose environment carries this test's database path."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        argv = cmdline.split(b"\0")
        # The interpreter running the script; not tmux or setsid, whose command lines name it too.
        if b"python" in argv[0] and argv[1:2] == [PROGRAM.encode()] and marker.encode() in environ:
            return int(proc.name)
    raise AssertionError("the dashboard process was not found")


@pytest.mark.skipif(not Path("/proc").is_dir() or shutil.which("setsid") is None, reason="needs /proc and setsid")
@pytest.mark.parametrize("how", ["hangup", "no-signal"])
def test_the_app_leaves_with_its_terminal_and_keeps_the_note_line(terminal, run_cli, tmp_path, how):
    """SIGHUP (the usual case) and a terminal that just ends: a process in its own session, as
    under some SSH setups, gets no SIGHUP and only reads end-of-file. Both must exit."""
    env = terminal.env
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You summarise support tickets.\n")
    assert run_cli(env, "prompts", "add", "support-summary", str(prompt)).returncode == 0
    incident = run_cli(env, "declare", "--title", "t", "--prompt", "support-summary", "--severity", "P2",
                       "--detected-by", "alert").stdout.strip()
    terminal.start("main", [PROGRAM] if how == "hangup" else ["setsid", "-w", PROGRAM])
    terminal.wait_for(incident)
    pid = _app_pid(env["INCIDENT_TUI_DB"])
    assert _running(pid)
    terminal.keys("n")
    terminal.wait_for("stamp note")
    terminal.type("half a thought when the link dropped")
    terminal.wait_for("half a thought when the link dropped")  # every key has reached the line
    terminal.close()  # the tmux server and its terminals are gone
    deadline = time.monotonic() + 15
    while _running(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError("the dashboard outlived its terminal")
        time.sleep(0.1)
    assert any(t.startswith("half a thought when the link dropped") for t in note_texts(run_cli, env, incident))
