"""One incident, start to finish, as a responder lives it — in a real terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_whole_incident_in_tmux(terminal, run_cli, tmp_path, openhands_history):
    env = terminal.env
    hook_out = tmp_path / "hook-env.json"
    hook = tmp_path / "rollback_hook.py"
    hook.write_text(
        "import json, os, sys\n"
        f"json.dump({{k: os.environ.get(k) for k in ('INCIDENT_ID', 'PROMPT_ID', 'FROM_VERSION', 'TO_VERSION')}},"
        f" open({str(hook_out)!r}, 'w'))\n"
        "print('traffic switched')\n"
    )
    Path(env["INCIDENT_TUI_CONFIG"]).write_text(
        f'user = "e2e"\n[hooks]\nrollback = [{json.dumps(sys.executable)}, {json.dumps(str(hook))}]\ntimeout = 30\n'
    )
    assert run_cli(env, "prompts", "import-dir", str(openhands_history), "--prompt", "codeact").returncode == 0
    assert run_cli(env, "prompts", "label", "codeact", "4", "production").returncode == 0
    assert run_cli(env, "prompts", "label", "codeact", "5", "production", "--why", "#5506").returncode == 0

    terminal.start("main", [str(Path(sys.executable).parent / "incident-tui")])
    terminal.wait_for("0 active")

    # Declare: title, prompt (completed), version blank = production, severity/detection defaults, start.
    terminal.keys("d")
    terminal.wait_for("Declare an incident")
    terminal.type("Agent stops editing after view")
    terminal.keys("Enter")
    terminal.type("codeact")
    terminal.keys("Enter", "Enter", "Tab", "Tab")
    terminal.type("-10m")
    terminal.keys("Enter")
    screen = terminal.wait_for("1 active")
    incident_id = next(w for w in screen.split() if w.startswith("INC-"))
    assert "codeact v5" in terminal.wait_for("codeact v5")

    # Note, then star it.
    terminal.keys("n")
    terminal.wait_for("stamp note")  # the key bar follows focus: the note line is live
    terminal.type("canary resolve rate 29%, was 41%")
    terminal.keys("Enter")
    terminal.wait_for("e2e: canary resolve rate 29%")
    terminal.keys("Escape")
    terminal.wait_for("stamp note", gone=True)
    terminal.keys("*")
    terminal.wait_for("★ e2e: canary resolve rate")

    # Triage as prompt quality with a hypothesis.
    terminal.keys("t")
    terminal.wait_for("what kind of failure")
    terminal.keys("Enter")
    terminal.wait_for("Root cause hypothesis")
    terminal.type("v5 says start exploring with view")
    terminal.keys("Enter")
    terminal.wait_for("Triage complete (prompt quality)")

    # Contain first: roll back to the previous good version, confirming what will happen.
    terminal.keys("r")
    terminal.wait_for("back to which version")
    terminal.keys("Enter")
    terminal.wait_for("Route codeact v5 → v4")
    terminal.keys("y")
    # Its end may wrap: an incident that began before midnight shows dates, which lengthen each line.
    screen = terminal.wait_for("Rollback executed. Traffic routed to codeact v4")
    assert "(from v5)" in screen
    assert json.loads(hook_out.read_text()) == {
        "INCIDENT_ID": incident_id, "PROMPT_ID": "codeact", "FROM_VERSION": "5", "TO_VERSION": "4",
    }
    terminal.wait_for("traffic switched")  # the hook's output tail is on the timeline

    # Diagnose: advance, then read the diff of failing vs last good.
    terminal.keys("a")
    terminal.wait_for(f"{incident_id} · P2 · diagnose")
    terminal.keys("3")
    terminal.wait_for("codeact v4 (last good) → v5 (failing)")
    terminal.keys("z")  # the whole screen; prose starts soft-wrapped
    terminal.wait_for("1 Incidents", gone=True)
    screen = terminal.wait_for("+ * You should start exploring the file system")
    assert "change 1 of 2" in screen and "wrap" in screen
    terminal.keys("z")

    # A second terminal writes a note while the first one watches the timeline.
    terminal.keys("2")
    terminal.start("second", ["/bin/sh", "-c", f"{Path(sys.executable).parent / 'incident-tui'} note {incident_id} "
                              "'from the second terminal'; sleep 60"])
    terminal.wait_for("from the second terminal")

    # Postmortem: enter starts editing; ctrl+down moves section by section; leaving a field saves it.
    terminal.keys("4")
    terminal.wait_for("1/11 HEADER")
    terminal.keys("Enter", "C-Down")
    terminal.wait_for("2/11 SUMMARY")
    terminal.type("SWE-Bench resolve rate fell to 29% after v5 told the agent to explore with view. "
                  "Agents stopped editing files. Rolled back to v4 within minutes.")
    terminal.keys("Escape")  # leave the field: it is saved, and single keys reach the dashboard again
    terminal.wait_for("· saved")
    summary = run_cli(env, "export", incident_id, "--format", "markdown")
    assert "Rolled back to v4 within minutes." in summary.stdout

    # Copy it: no system clipboard here, so the app falls back to OSC 52, which tmux keeps.
    terminal.keys("F2")
    terminal.wait_for("OSC 52")
    copied = terminal.buffer()
    assert incident_id in copied and "Rolled back to v4 within minutes." in copied

    # And export it to a file for the doc.
    out = tmp_path / "postmortem.md"
    exported = run_cli(env, "export", incident_id, "--format", "markdown", "--output", str(out))
    assert exported.returncode == 0 and "Rolled back to v4 within minutes." in out.read_text()
    jira = run_cli(env, "export", incident_id, "--format", "jira")
    assert jira.returncode == 0 and incident_id in jira.stdout

    # The CLI sees everything the dashboard did.
    shown = json.loads(run_cli(env, "show", incident_id, "--json").stdout)
    assert shown["stage"] == "diagnose" and shown["containment"] == "rollback" and shown["routed_to_version"] == 4
    listed = run_cli(env, "prompts", "list", "codeact", "--json")
    assert listed.returncode == 0

    terminal.keys("q")
    terminal.wait_for("incident-tui", gone=True)
