"""Non-interactive commands import only what they use; every command is still there."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from incident_tui.cli import LAZY_COMMANDS, main

# What the everyday commands must not pay for: the dashboard, the diff engine, the exporters,
# the prompt registry, the alert and web servers, and the hook runner.
HEAVY = ["textual", "incident_tui.tui", "incident_tui.domain.diff", "incident_tui.domain.export",
         "incident_tui.services.prompts", "incident_tui.cli_prompts",
         "incident_tui.cli_export", "incident_tui.cli_alerts", "incident_tui.cli_serve", "aiohttp", "subprocess"]

PROBE = """
import json, sys
from incident_tui.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(*args: str) -> tuple[int, set[str], str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), proc.stdout


@pytest.fixture
def incident_id(db_path):
    result = CliRunner().invoke(main, ["--db", str(db_path), "declare", "--title", "t", "--prompt", "p",
                                       "--severity", "P2", "--detected-by", "manual", "--new-prompt"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.mark.parametrize("command", [
    ["declare", "--title", "Summaries invent refunds", "--prompt", "p", "--severity", "P1", "--detected-by", "alert",
     "--new-prompt"],
    ["note", "{id}", "checked", "the", "canary"],
    ["list", "--all"],
    ["show", "{id}"],
    ["note", "INC-20990101-001", "no such incident"],  # the error path too
])
def test_everyday_commands_import_only_what_they_use(db_path, incident_id, command):
    code, modules, out = _run("--db", str(db_path), *[part.format(id=incident_id) for part in command])
    assert code in (0, 1, None), out
    heavy = HEAVY
    if command[0] == "declare":  # without --version it asks the registry for the production version
        heavy = [m for m in HEAVY if m != "incident_tui.services.prompts"]
    assert not [m for m in heavy if m in modules]


def test_a_failing_note_is_still_one_line(db_path, incident_id):
    result = CliRunner().invoke(main, ["--db", str(db_path), "note", "INC-20990101-001", "x"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["incident-tui: error: no incident INC-20990101-001"]


def test_help_lists_every_command_and_each_runs(db_path):
    runner = CliRunner()
    listed = runner.invoke(main, ["--help"]).output
    for name in LAZY_COMMANDS:
        assert f"  {name} " in listed
        assert runner.invoke(main, [name, "--help"]).exit_code == 0
    assert "  note " in listed and "  demo " in listed
    assert runner.invoke(main, ["--db", str(db_path), "prompts", "list"]).exit_code == 0
    unknown = runner.invoke(main, ["nosuch"])
    assert unknown.exit_code == 2 and "No such command 'nosuch'" in unknown.output
