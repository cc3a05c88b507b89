"""Non-interactive commands import only what they use; every command is still there."""

import json
import os
import subprocess
import sys

from pathlib import Path

import pytest
from click.testing import CliRunner

from incident_tui.cli import LAZY_COMMANDS, main

# What the everyday commands must not pay for: the dashboard, the diff engine, the exporters,
# the prompt registry, the alert and web servers, the hook runner and the containment plans.
HEAVY = ["textual", "rich", "incident_tui.tui", "incident_tui.domain.diff", "incident_tui.domain.export",
         "incident_tui.services.prompts", "incident_tui.cli_prompts",
         "incident_tui.cli_export", "incident_tui.cli_alerts", "incident_tui.cli_serve", "aiohttp", "subprocess",
         "incident_tui.services.hooks", "incident_tui.services.plans", "incident_tui.services.validation",
         "incident_tui.demo", "incident_tui.store.presence"]

# What a command run without a config file never loads: the TOML parser, platformdirs (the XDG
# directories are worked out in config.user_dir on Linux) and the helpers of config errors and hooks.
NO_CONFIG_FILE = ["tomllib", "platformdirs", "shlex", "shutil"]
# What only declaring, triage and containment need: the containment rules, the prompt-version rules
# and the "did you mean" matcher behind them. note, list and show never load them.
CONTAINMENT = ["incident_tui.domain.containment", "incident_tui.domain.prompts", "difflib"]
# What none of them loads when the user's login name is in the environment, as it is in a shell:
# pathlib (the db and config paths stay strings until a command wants a Path), getpass and
# termios (the author is $LOGNAME/$USER, read as getpass would), and the prompt importers' csv.
PATHS_AND_LOGIN = ["pathlib", "getpass", "termios", "csv"]

PROBE = """
import json, sys
from incident_tui.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, set[str], str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60, env=env)
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
def test_everyday_commands_import_only_what_they_use(db_path, incident_id, command, home):
    code, modules, out = _run("--db", str(db_path), *[part.format(id=incident_id) for part in command],
                              env=_environment(home, USER="night-owl"))
    assert code in (0, 1, None), out
    heavy = HEAVY + NO_CONFIG_FILE + PATHS_AND_LOGIN
    if command[0] == "declare":  # without --version it asks the registry for the production version
        heavy = [m for m in HEAVY if m != "incident_tui.services.prompts"] + NO_CONFIG_FILE + PATHS_AND_LOGIN + ["difflib"]
    else:
        heavy += CONTAINMENT
    assert not [m for m in heavy if m in modules]


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return home


def _environment(home, **extra: str) -> dict[str, str]:
    """This process's environment with ``home`` as $HOME and no config, XDG or login-name override."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "INCIDENT_TUI_")) and k not in LOGIN_VARIABLES}
    return {**env, "HOME": str(home), **extra}


LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")


def _authors(db_path, incident_id, env, text: str) -> list[str]:
    timeline = CliRunner(env=env).invoke(main, ["--db", str(db_path), "timeline", incident_id, "--json"])
    return [e["author"] for e in json.loads(timeline.output) if e["text"] == text]


@pytest.mark.parametrize("login", [{"LOGNAME": "ana", "USER": "bob"}, {"USER": "bob"}, {"LNAME": "cy"},
                                   {"USERNAME": "dee"}, {"LOGNAME": "", "USER": "bob"}, {}])
def test_the_author_is_the_login_name_getpass_gives(db_path, incident_id, home, login):
    """The login name comes from the variables getpass reads, in its order; with none, from getpass."""
    import getpass

    env = _environment(home, **login)
    code, modules, out = _run("--db", str(db_path), "note", incident_id, "who", "wrote", "this", env=env)
    assert code in (0, None), out
    saved = {k: os.environ.pop(k) for k in LOGIN_VARIABLES if k in os.environ}
    try:
        os.environ.update(login)
        expected = getpass.getuser()
    finally:
        for k in LOGIN_VARIABLES:
            os.environ.pop(k, None)
        os.environ.update(saved)
    assert _authors(db_path, incident_id, env, "who wrote this") == [expected]
    assert ("getpass" in modules) == (not any(login.values()))


@pytest.mark.parametrize("name", ["x.db", "./x.db", "a//b/./c.db", "a/b/", "/abs//x.db", "//net/x.db", "///x.db",
                                  "/", "//", "", ".", "./", "a/../b.db", "-d.db", " sp ace/x.db", "\udcff.db"])
def test_path_text_is_what_a_path_prints(name):
    from pathlib import PurePosixPath

    from incident_tui.cli_common import path_text

    assert path_text(name) == str(PurePosixPath(name))


@pytest.mark.parametrize("given", ["./{f}//sub/x.db", "{f}/./x.db/", "{dir}//{f}/x.db"])
def test_a_db_path_is_quoted_as_a_path_prints_it(tmp_path, monkeypatch, given):
    """--db is no longer a Path when parsed; the error still names the file as the Path did."""
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain-file").write_text("")
    raw = given.format(f="plain-file", dir=tmp_path)
    result = CliRunner().invoke(main, ["--db", raw, "note", "INC-20990101-001", "x"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"incident-tui: error: cannot open database {Path(raw)}: Not a directory"]


def test_a_cli_context_hands_out_paths(tmp_path, monkeypatch):
    """Commands that want a Path (the dashboard, serve, demo) still get one, equal to the one click made."""
    from pathlib import Path

    from incident_tui.cli_common import CliContext, default_db_path

    monkeypatch.setenv("INCIDENT_TUI_DB", str(tmp_path / "env.db"))
    given = CliContext(f"{tmp_path}//a/./b.db", "c//config.toml")
    assert given.db_path == Path(f"{tmp_path}/a/b.db") and isinstance(given.db_path, Path)
    assert given.config_path == Path("c/config.toml")
    default = CliContext(None, None)
    assert default.db_path == default_db_path() == tmp_path / "env.db" and default.config_path is None
    default.db_path = tmp_path / "demo.db"
    assert default.db_path == tmp_path / "demo.db"
    assert default.open_db().storage.path == str(tmp_path / "demo.db")
    default.close()


def test_a_config_file_is_still_read_and_checked(db_path, incident_id, home):
    """The lazily loaded TOML parser and directory lookup still find the default config file and refuse a bad one."""
    config = home / ".config" / "incident-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('user = "night-owl"\n', encoding="utf-8")
    code, modules, _ = _run("--db", str(db_path), "note", incident_id, "with", "a", "config", env=_environment(home))
    assert code in (0, None) and "tomllib" in modules
    timeline = CliRunner(env=_environment(home)).invoke(main, ["--db", str(db_path), "timeline", incident_id, "--json"])
    assert [e["author"] for e in json.loads(timeline.output) if e["text"] == "with a config"] == ["night-owl"]
    config.write_text('user = "night-owl"\nhooks = 3\n', encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "incident_tui", "--db", str(db_path), "note", incident_id, "x"],
                         capture_output=True, text=True, timeout=60, env=_environment(home))
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [f"incident-tui: error: {config}: line 2, key 'hooks': must be a table: [hooks]"]


@pytest.mark.parametrize("xdg", [None, "", "   ", "/srv/xdg", "relative/xdg"])
@pytest.mark.parametrize("kind", ["config", "data"])
def test_user_dirs_are_the_ones_platformdirs_gives(monkeypatch, tmp_path, kind, xdg):
    import platformdirs

    from incident_tui.config import user_dir

    monkeypatch.setenv("HOME", str(tmp_path))
    variable = {"config": "XDG_CONFIG_HOME", "data": "XDG_DATA_HOME"}[kind]
    if xdg is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, xdg)
    expected = getattr(platformdirs, f"user_{kind}_dir")("incident-tui")
    assert user_dir(kind) == Path(expected)


def test_a_failing_note_is_still_one_line(db_path, incident_id):
    result = CliRunner().invoke(main, ["--db", str(db_path), "note", "INC-20990101-001", "x"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["incident-tui: error: no incident INC-20990101-001"]


# An alert hook's `ingest --file` and a postmortem export to stdout: no web server, no temp files.
WEBHOOK_SERVER = ["incident_tui.services.webhook", "asyncio", "ssl", "socket", "http", "aiohttp", "subprocess",
                  "pathlib", "textual", "incident_tui.tui"]
FILE_WRITER = ["incident_tui.services.files", "tempfile", "pathlib", "textual", "incident_tui.tui"]

ALERT = {"alerts": [{"status": "firing", "labels": {"alertname": "QualityDrop", "prompt_id": "summarise",
                                                    "severity": "critical"},
                     "annotations": {}, "startsAt": "2026-11-30T10:00:00Z", "fingerprint": "f00d"}]}


def test_ingest_from_a_file_loads_no_web_server(db_path, home, tmp_path):
    payload = tmp_path / "alert.json"
    payload.write_text(json.dumps(ALERT), encoding="utf-8")
    code, modules, out = _run("--db", str(db_path), "ingest", "alertmanager", "--file", str(payload),
                              env=_environment(home, USER="night-owl"))
    assert code in (0, None), out
    assert out.splitlines()[0].startswith("INC-")
    assert not [m for m in WEBHOOK_SERVER if m in modules]


def test_ingest_names_a_bad_file_as_a_path_prints_it(db_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text("{x", encoding="utf-8")
    result = CliRunner().invoke(main, ["--db", str(db_path), "ingest", "alertmanager", "--file", ".//bad.json"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "incident-tui: error: bad.json: bad JSON: Expecting property name enclosed in double quotes at line 1 "
        "column 2; nothing was recorded"]


def test_export_to_stdout_loads_no_file_writer(db_path, incident_id, home, tmp_path):
    code, modules, out = _run("--db", str(db_path), "export", incident_id, env=_environment(home, USER="night-owl"))
    assert code in (0, None) and incident_id in out
    assert not [m for m in FILE_WRITER if m in modules]
    target = tmp_path / "pm.md"
    code, modules, out = _run("--db", str(db_path), "export", incident_id, "--output", str(target),
                              env=_environment(home, USER="night-owl"))
    assert code in (0, None) and incident_id in target.read_text(encoding="utf-8")
    assert "incident_tui.services.files" in modules


def test_the_containment_plans_are_still_offered_by_the_incident_service():
    """They load with the first containment; the names the dashboard imports are the same classes."""
    from incident_tui.services import incidents, plans

    assert incidents.ContainmentPlan is plans.ContainmentPlan
    assert incidents.ContainmentResult is plans.ContainmentResult
    assert incidents.RollbackOptions is plans.RollbackOptions
    with pytest.raises(AttributeError):
        incidents.NoSuchThing  # noqa: B018


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
