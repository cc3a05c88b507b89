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
                 "--severity", "P1", "--detected-by", "alert", "--new-prompt", *extra)
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


def register(run, tmp_path, prompt_id, count):
    for n in range(1, count + 1):
        path = tmp_path / f"{prompt_id}-{n}.txt"
        path.write_text(f"{prompt_id} rules, revision {n}\n")
        assert run("prompts", "add", prompt_id, str(path)).exit_code == 0


def test_rollback_and_kill_switch(run, tmp_path):
    register(run, tmp_path, "support-summary", 7)
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
    proc = _cli(db_path, "declare", "--title", "t", "--prompt", "p", "--severity", "P3", "--detected-by", "manual",
                "--new-prompt")
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
                    "--detected-by", "alert", "--new-prompt").stdout.strip()

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


def _texts(run, incident_id):
    return [e["text"] for e in json.loads(run("timeline", incident_id, "--json").output) if e["kind"] == "note"]


def test_an_unknown_note_option_is_an_error_and_saves_nothing(run):
    incident_id = declare(run)
    result = run("note", incident_id, "--sta", "x")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "--sta" in result.stderr and "did you mean --star?" in result.stderr
    assert _texts(run, incident_id) == []


def test_note_text_that_starts_with_a_dash(run):
    incident_id = declare(run)
    # The README's example: a leading -5m backdates, in one token, with an option after it.
    assert run("note", incident_id, "-5m CS escalations spiking in EU", "--star").exit_code == 0
    # "-2h" used to be read as -2 -h: the help text, exit 0, nothing saved.
    # (two hours before an incident declared now is before it began: said to be meant)
    assert run("note", incident_id, "-2h", "first", "bad", "summary", "--before-impact").exit_code == 0
    assert run("note", incident_id, "--", "--dry-run", "was", "on").exit_code == 0
    assert run("note", incident_id, "--at", "-3m", "--", "-v", "flag", "missing").exit_code == 0
    events = [e for e in json.loads(run("timeline", incident_id, "--json").output) if e["kind"] == "note"]
    by_text = {e["text"]: e for e in events}
    assert set(by_text) == {"CS escalations spiking in EU", "first bad summary", "--dry-run was on", "-v flag missing"}
    assert by_text["CS escalations spiking in EU"]["starred"] and by_text["first bad summary"]["backdated"]
    refused = run("note", incident_id, "-v", "flag", "missing")
    assert refused.exit_code == 2 and "goes after --" in refused.stderr


@pytest.mark.parametrize(
    "args,expect",
    [
        (["list", "--bogus"], "--bogus"),
        (["nope"], "nope"),
        (["note", "INC-20200101-001"], "TEXT"),
        (["declare", "--title", "t"], "--prompt"),
        (["declare", "--title", "t", "--prompt", "p", "--severity", "P5", "--detected-by", "alert"], "P5"),
        (["advance"], "INCIDENT_ID"),
        (["triage", "INC-1", "network"], "network"),
        (["rollback", "INC-1", "--to", "seven"], "seven"),
        (["export", "INC-1", "--format", "pdf"], "pdf"),
        (["prompts", "diff", "p", "1"], "V2"),
        (["ingest", "pagerduty"], "pagerduty"),
        (["prompts"], "missing command: one of add, diff"),  # click's report is the whole help here
    ],
)
def test_every_usage_error_is_one_line_exit_2(run, args, expect):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("incident-tui: error: ")
    assert expect in result.stderr and "--help" in result.stderr


def test_a_bad_time_of_day_is_quoted_whole(run):
    incident_id = declare(run)
    result = run("note", incident_id, "--at", "25:99", "late")
    assert result.exit_code == 1 and result.stderr.strip() == "incident-tui: error: not a time of day: '25:99'"


def test_a_non_utf8_argument_is_replaced_and_said(db_path):
    # Python hands undecodable bytes over as lone surrogates: declare used to fail with "unexpected TypeError".
    proc = subprocess.run(
        [sys.executable, "-m", "incident_tui", "--db", str(db_path), "declare", "--title", b"caf\xe9 \xff down",
         "--prompt", "p", "--new-prompt", "--severity", "P3", "--detected-by", "manual"],
        capture_output=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    warning = proc.stderr.decode()
    assert warning.count("\n") == 1 and "--title is not valid UTF-8" in warning and "U+FFFD" in warning
    incident_id = proc.stdout.decode().strip()
    shown = json.loads(_cli(db_path, "show", incident_id, "--json").stdout)
    assert shown["title"] == "caf\ufffd \ufffd down"
    note = subprocess.run([sys.executable, "-m", "incident_tui", "--db", str(db_path), "note", incident_id,
                           b"-5m r\xe9sum\xe9 broken"], capture_output=True, timeout=60)
    assert note.returncode == 0 and b"TEXT is not valid UTF-8" in note.stderr
    assert "r\ufffdsum\ufffd broken" in _cli(db_path, "timeline", incident_id).stdout


def test_a_non_utf8_path_keeps_its_bytes(tmp_path):
    # A path names a file: replacing its bytes would open another one.
    db = os.path.join(os.fsencode(tmp_path), b"d\xe9.json")
    proc = subprocess.run([sys.executable, "-m", "incident_tui", "--db", db, "declare", "--title", "t", "--prompt",
                           "p", "--new-prompt", "--severity", "P3", "--detected-by", "manual"], capture_output=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    assert os.path.exists(db)


def test_a_hook_string_in_the_config_stops_the_command_with_one_line(db_path, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[hooks]\nrollback = "/opt/ops/hook.sh --env prod"\n')
    result = CliRunner().invoke(main, ["--db", str(db_path), "--config", str(config), "list"])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "line 2, key 'hooks.rollback'" in result.stderr
    assert 'rollback = ["/opt/ops/hook.sh", "--env", "prod"]' in result.stderr


def test_a_missing_hook_program_is_a_warning_and_the_command_runs(db_path, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[hooks]\nrollback = ["{tmp_path}/gone.sh"]\n')
    result = CliRunner().invoke(main, ["--db", str(db_path), "--config", str(config), "list"])
    assert result.exit_code == 0
    assert result.stderr.startswith("incident-tui: warning: ") and result.stderr.count("\n") == 1
    assert "line 2, key 'hooks.rollback'" in result.stderr and "does not exist" in result.stderr


def test_the_dashboard_refuses_a_bad_keymap_before_it_starts(db_path, tmp_path, monkeypatch):
    import incident_tui.tui.app as app_module

    monkeypatch.setattr(app_module.IncidentApp, "run", lambda self: pytest.fail("the app started"))
    config = tmp_path / "config.toml"
    config.write_text('[keys]\nnote = "r"\n')
    result = CliRunner().invoke(main, ["--db", str(db_path), "--config", str(config)])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "line 2, key 'keys.note'" in result.stderr and "'rollback'" in result.stderr


def test_help_and_version_still_exit_0(run):
    assert run("--help").exit_code == 0 and "Usage:" in run("--help").output
    assert run("note", "-h").exit_code == 0
    assert run("--version").exit_code == 0
