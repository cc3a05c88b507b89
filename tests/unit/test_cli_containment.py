"""The CLI refuses to declare, contain or promote what the prompt registry does not hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
def hooked(db_path, tmp_path):
    """`run` with a config whose rollback and kill-switch hooks leave a file behind when they run."""
    from click.testing import CliRunner

    from incident_tui.cli import main

    ran = tmp_path / "hook-ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f'#!/bin/sh\necho "$PROMPT_ID $FROM_VERSION $TO_VERSION" >> {ran}\necho routed\n')
    hook.chmod(0o755)
    config = tmp_path / "config.toml"
    config.write_text(f'user = "ana"\n[hooks]\nrollback = ["{hook}"]\nkill_switch = ["{hook}"]\ntimeout = 20\n')

    def invoke(*args, input=None):
        return CliRunner().invoke(main, ["--db", str(db_path), "--config", str(config), *args], input=input,
                                  catch_exceptions=False)

    invoke.ran = ran
    return invoke


def register(run, tmp_path, prompt_id, count):
    for n in range(1, count + 1):
        path = tmp_path / f"{prompt_id}-{n}.txt"
        path.write_text(f"{prompt_id}: line one\n" + "".join(f"rule {i}\n" for i in range(n)))
        assert run("prompts", "add", prompt_id, str(path)).exit_code == 0


def declare(run, prompt_id, *extra):
    return run("declare", "--title", "Summaries invent refunds", "--prompt", prompt_id, "--severity", "P1",
               "--detected-by", "alert", *extra)


def one_line_error(result) -> str:
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("incident-tui: error: ")
    return result.stderr


def shown(run, incident_id):
    return json.loads(run("show", incident_id, "--json").output)


def test_a_typo_is_refused_with_did_you_mean_and_declares_nothing(hooked, tmp_path):
    register(hooked, tmp_path, "gemini-system", 3)
    register(hooked, tmp_path, "support-summary", 2)
    error = one_line_error(declare(hooked, "gemini-sytem", "--version", "999"))
    assert "prompt 'gemini-sytem' is not registered; did you mean 'gemini-system'?" in error
    assert "--new-prompt" in error
    assert json.loads(hooked("list", "--json").output) == []


def test_an_unknown_version_of_a_known_prompt_is_refused_with_the_range(hooked, tmp_path):
    register(hooked, tmp_path, "gemini-system", 3)
    error = one_line_error(declare(hooked, "gemini-system", "--version", "999"))
    assert "gemini-system has no version 999 (it has v1–v3)" in error
    assert "gemini-system has no version 999" in one_line_error(declare(hooked, "gemini-system", "--version", "999",
                                                                        "--new-prompt"))


def test_a_fresh_install_is_told_how_to_declare(hooked):
    error = one_line_error(declare(hooked, "support-summary"))
    assert "no prompt is registered yet" in error and "add --new-prompt" in error
    assert "incident-tui prompts add|import-git|import-dir" in error
    created = declare(hooked, "support-summary", "--new-prompt", "--version", "7")
    assert created.exit_code == 0 and created.output.startswith("INC-")


def test_rollback_and_kill_switch_of_an_unregistered_prompt_refuse_and_run_nothing(hooked, tmp_path):
    register(hooked, tmp_path, "gemini-system", 3)
    incident_id = declare(hooked, "gemini-sytem", "--version", "999", "--new-prompt").output.strip()
    error = one_line_error(hooked("rollback", incident_id))
    assert "nothing to roll back to: register versions with `incident-tui prompts add|import-git|import-dir`" in error
    assert "v998" not in error
    assert "nothing to roll back to" in one_line_error(hooked("rollback", incident_id, "--to", "998"))
    assert "kill switch has nothing to act on" in one_line_error(hooked("kill-switch", incident_id))
    assert not hooked.ran.exists()
    state = shown(hooked, incident_id)
    assert state["contained_at"] is None and state["containment"] is None
    timeline = hooked("timeline", incident_id).output
    assert "Rollback executed" not in timeline and "Hook" not in timeline


def test_rollback_to_an_unregistered_version_is_refused(hooked, tmp_path):
    register(hooked, tmp_path, "p", 70)
    incident_id = declare(hooked, "p", "--version", "70").output.strip()
    error = one_line_error(hooked("rollback", incident_id, "--to", "999"))
    assert "p has no version 999 (it has v1–v70)" in error
    assert not hooked.ran.exists() and shown(hooked, incident_id)["contained_at"] is None
    result = hooked("rollback", incident_id, "--to", "68")
    assert result.exit_code == 0 and "Traffic routed to p v68 (from v70)" in result.output
    assert hooked.ran.read_text() == "p 70 68\n"


def test_promotion_and_staging_accept_only_registered_versions(hooked, tmp_path):
    register(hooked, tmp_path, "p", 8)
    incident_id = declare(hooked, "p", "--version", "7").output.strip()
    assert "p has no version 500 (it has v1–v8)" in one_line_error(
        hooked("milestone", incident_id, "promoted", "--version", "500"))
    assert "p has no version 500" in one_line_error(hooked("milestone", incident_id, "staging", "--version", "500"))
    assert "which version of p was promoted" in one_line_error(hooked("milestone", incident_id, "promoted"))
    assert shown(hooked, incident_id)["promoted_at"] is None
    assert hooked("milestone", incident_id, "staging", "--version", "8").exit_code == 0
    assert hooked("milestone", incident_id, "promoted").exit_code == 0
    assert shown(hooked, incident_id)["promoted_version"] == 8
    rows = json.loads(hooked("prompts", "list", "p", "--json").output)
    assert [r["version"] for r in rows if "production" in r["labels"]] == [8]


def test_an_unassigned_incident_from_an_alert_gets_its_prompt_in_triage(hooked, tmp_path):
    payload = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    for alert in payload["alerts"]:
        del alert["labels"]["prompt_id"]
    ingested = hooked("ingest", "alertmanager", input=json.dumps(payload))
    assert ingested.exit_code == 0
    incident_id = ingested.output.strip()
    assert shown(hooked, incident_id)["prompt_id"] == "(unassigned)"
    assert "(unassigned)" in hooked("list").output
    assert "prompt is unassigned: set it first" in one_line_error(hooked("rollback", incident_id))
    assert "prompt is unassigned" in one_line_error(hooked("kill-switch", incident_id))
    assert not hooked.ran.exists()

    register(hooked, tmp_path, "support-summary", 7)
    typo = hooked("triage", incident_id, "prompt-quality", "--prompt", "support-sumary")
    assert "did you mean 'support-summary'" in one_line_error(typo)
    ok = hooked("triage", incident_id, "prompt-quality", "--hypothesis", "v7", "--prompt", "support-summary",
                "--version", "7")
    assert ok.exit_code == 0
    state = shown(hooked, incident_id)
    assert (state["prompt_id"], state["prompt_version"], state["category"]) == ("support-summary", 7, "prompt-quality")
    rolled = hooked("rollback", incident_id)
    assert rolled.exit_code == 0 and hooked.ran.read_text() == "support-summary 7 6\n"
