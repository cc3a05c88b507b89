import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner

from incident_tui.cli import main


def declare(run, *extra):
    result = run("declare", "--title", "Summaries invent refunds", "--prompt", "support-summary", "--version", "7",
                 "--severity", "P1", "--detected-by", "alert", *extra)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_declare_prints_only_the_id(run):
    incident_id = declare(run, "--started-at", "-15m")
    assert incident_id.startswith("INC-") and "\n" not in incident_id
    shown = json.loads(run("show", incident_id, "--json").output)
    assert shown["prompt_version"] == 7 and shown["derived"]["detection_gap_s"] == pytest.approx(900, abs=5)


def test_note_list_timeline_json(run):
    incident_id = declare(run)
    assert run("note", incident_id, "-5m", "first", "bad", "summary", "--star").exit_code == 0
    events = json.loads(run("timeline", incident_id, "--json").output)
    note = [e for e in events if e["kind"] == "note"][0]
    assert note["text"] == "first bad summary" and note["starred"] and note["backdated"]
    listed = json.loads(run("list", "--json").output)
    assert [i["id"] for i in listed] == [incident_id]
    assert incident_id in run("list").output


def test_advance_guard_is_a_one_line_error(run):
    incident_id = declare(run)
    assert run("triage", incident_id, "prompt-quality", "--hypothesis", "v7").exit_code == 0
    result = run("advance", incident_id, "diagnose")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "contain first" in result.stderr
    ok = run("advance", incident_id, "diagnose", "--reason", "no earlier version is safe")
    assert ok.exit_code == 0 and ok.output.strip() == f"{incident_id} diagnose"
    shown = json.loads(run("advance", incident_id, "--json").output)
    assert shown["stage"] == "remediate" and shown["contain_override"] == "no earlier version is safe"


def test_unknown_incident_and_bad_time(run):
    result = run("note", "INC-20200101-001", "hello")
    assert result.exit_code == 1 and "no incident INC-20200101-001" in result.stderr
    result = run("declare", "--title", "x", "--prompt", "p", "--severity", "P2", "--detected-by", "manual",
                 "--started-at", "around lunch")
    assert result.exit_code == 1 and "cannot read time" in result.stderr


def test_rollback_and_kill_switch(run):
    incident_id = declare(run)
    result = run("rollback", incident_id, "--to", "5")
    assert result.exit_code == 0 and "Traffic routed to support-summary v5 (from v7)" in result.output
    assert json.loads(run("show", incident_id, "--json").output)["containment"] == "rollback"


def test_corrupt_db_is_reported_and_left_alone(db_path):
    db_path.write_bytes(b"{not json")
    before = db_path.read_bytes()
    result = CliRunner().invoke(main, ["--db", str(db_path), "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("incident-tui: error:") and result.stderr.count("\n") == 1
    assert db_path.read_bytes() == before


def test_bad_config_is_one_line(db_path, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[hooks]\nrollback = 5\n')
    result = CliRunner().invoke(main, ["--db", str(db_path), "--config", str(config), "list"])
    assert result.exit_code == 1
    assert "line 2" in result.stderr and "hooks.rollback" in result.stderr and result.stderr.count("\n") == 1


def _cli(db_path, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "incident_tui", "--db", str(db_path), *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60,
    )


def test_real_subprocess_and_env_override(db_path):
    proc = _cli(db_path, "declare", "--title", "t", "--prompt", "p", "--severity", "P3", "--detected-by", "manual")
    assert proc.returncode == 0 and proc.stdout.startswith("INC-")
    env_proc = subprocess.run(
        [sys.executable, "-m", "incident_tui", "list"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "INCIDENT_TUI_DB": str(db_path)},
    )
    assert proc.stdout.strip() in env_proc.stdout


def test_cli_does_not_import_textual(db_path):
    code = (
        "import sys; from incident_tui.cli import main\n"
        "try:\n    main(['--db', sys.argv[1], 'list'])\nexcept SystemExit: pass\n"
        "assert 'textual' not in sys.modules, 'textual was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(db_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_two_processes_declaring_get_unique_ids(db_path):
    def one(_):
        return _cli(db_path, "declare", "--title", "race", "--prompt", "p", "--severity", "P2",
                    "--detected-by", "alert").stdout.strip()

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(one, range(12)))
    assert all(i.startswith("INC-") for i in ids)
    assert len(set(ids)) == 12


def test_prompts_label_moves_production_and_declare_defaults_to_it(run, openhands_history):
    assert run("prompts", "import-dir", str(openhands_history), "--prompt", "codeact").exit_code == 0
    moved = run("prompts", "label", "codeact", "5", "production", "--why", "release")
    assert moved.exit_code == 0 and moved.output.strip() == "codeact production -> v5"
    again = run("prompts", "label", "codeact", "4", "production")
    assert again.output.strip() == "codeact production -> v4 (was v5)"
    bad = run("prompts", "label", "codeact", "99", "production")
    assert bad.exit_code == 1 and "has no version 99" in bad.stderr
    incident_id = run("declare", "--title", "t", "--prompt", "codeact", "--severity", "P2",
                      "--detected-by", "manual").output.strip()
    assert json.loads(run("show", incident_id, "--json").output)["prompt_version"] == 4
