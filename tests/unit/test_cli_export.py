"""`incident-tui export`: formats, --output, and --copy that never succeeds silently."""

from __future__ import annotations

import base64
import os
import pty
import re
import select
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pyperclip
import pytest
from click.testing import CliRunner

from incident_tui.cli import main
from incident_tui.services.incidents import IncidentService
from incident_tui.services.postmortem import PostmortemService
from incident_tui.store.storage import open_db


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A database with one incident, and an environment that cannot reach the user's files."""
    db_path = tmp_path / "incidents.json"
    monkeypatch.setenv("INCIDENT_TUI_DB", str(db_path))
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(tmp_path / "config.toml"))
    db = open_db(db_path)
    incidents = IncidentService(db)
    inc = incidents.declare(title="Summaries <invent> refunds", prompt_id="support-summary", version=7,
                            severity="P1", detected_by="alert", new_prompt=True)
    pms = PostmortemService(db, incidents)
    pms.save_field(inc.id, "summary", "It broke *badly* | twice. We rolled back.")
    expected = {fmt: pms.render(inc.id, fmt) for fmt in ("markdown", "text", "slack", "jira")}
    db.close()
    return inc.id, db_path, expected


def no_clipboard(monkeypatch):
    def copy(text):
        raise pyperclip.PyperclipException("Pyperclip could not find a copy/paste mechanism for your system.")

    monkeypatch.setattr(pyperclip, "copy", copy)


@pytest.mark.parametrize("fmt", ["markdown", "text", "slack", "jira"])
def test_export_prints_the_document(env, fmt):
    incident_id, _, expected = env
    result = CliRunner().invoke(main, ["export", incident_id.lower(), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout == expected[fmt]


def test_export_defaults_to_markdown(env):
    incident_id, _, expected = env
    assert CliRunner().invoke(main, ["export", incident_id]).stdout == expected["markdown"]


def test_export_to_a_file(env, tmp_path):
    incident_id, _, expected = env
    out = tmp_path / "pm.jira"
    result = CliRunner().invoke(main, ["export", incident_id, "--format", "jira", "--output", str(out)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == expected["jira"]
    assert "wrote" in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pm.jira")] == []  # no temp file left


def test_copy_with_a_clipboard(env, monkeypatch):
    incident_id, _, expected = env
    store = {}

    def copy_wl(text):
        store["t"] = text

    monkeypatch.setattr(pyperclip, "copy", copy_wl)
    monkeypatch.setattr(pyperclip, "paste", lambda: store["t"])
    result = CliRunner().invoke(main, ["export", incident_id, "--format", "slack", "--copy"])
    assert result.exit_code == 0
    assert store["t"] == expected["slack"]
    assert result.stdout == ""
    assert "copied" in result.stderr and "wl-copy" in result.stderr


def test_copy_without_clipboard_or_terminal_fails_in_one_line(env, monkeypatch):
    incident_id, _, _ = env
    no_clipboard(monkeypatch)
    monkeypatch.setenv("DISPLAY", ":0")  # a display, and no tool to reach it: say what to install
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = CliRunner().invoke(main, ["export", incident_id, "--copy"])
    assert result.exit_code == 1
    assert result.stdout == ""  # no OSC 52 into a pipe
    (line,) = result.stderr.splitlines()
    assert line.startswith("incident-tui: error: cannot copy")
    assert "xclip" in line and "wl-clipboard" in line


def test_copy_failure_still_writes_the_file_first(env, monkeypatch, tmp_path):
    incident_id, _, expected = env
    no_clipboard(monkeypatch)
    out = tmp_path / "pm.md"
    result = CliRunner().invoke(main, ["export", incident_id, "--output", str(out), "--copy"])
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8") == expected["markdown"]


def test_unknown_incident_and_format(env):
    result = CliRunner().invoke(main, ["export", "INC-20990101-001"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "incident-tui: error: no incident INC-20990101-001"
    assert CliRunner().invoke(main, ["export", env[0], "--format", "pdf"]).exit_code == 2


def headless_env(db_path: Path) -> dict[str, str]:
    """No display server of any kind: pyperclip finds no clipboard even if xclip is installed."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["INCIDENT_TUI_DB"] = str(db_path)
    env["INCIDENT_TUI_CONFIG"] = str(db_path.parent / "config.toml")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return env


def test_real_process_copy_into_a_pipe_fails(env):
    incident_id, db_path, _ = env
    proc = subprocess.run(
        [sys.executable, "-m", "incident_tui", "export", incident_id, "--copy"],
        capture_output=True, text=True, env=headless_env(db_path), timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1
    # Headless: the reason is the missing display, whether or not xclip is installed.
    assert "cannot copy" in proc.stderr and "no display is reachable" in proc.stderr


def test_real_process_copy_on_a_terminal_uses_osc52(env):
    incident_id, db_path, expected = env
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "incident_tui", "export", incident_id, "--format", "text", "--copy"],
        stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=headless_env(db_path),
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, stderr
    out = b"".join(chunks).decode()
    match = re.search(r"\x1b\]52;c;([A-Za-z0-9+/=]+)\x07", out)
    assert match, repr(out[:200])
    assert base64.b64decode(match.group(1)).decode() == expected["text"]
    assert "OSC 52" in stderr and "no display is reachable" in stderr


def test_unwritable_output_is_one_line(env, tmp_path):
    result = CliRunner().invoke(main, ["export", env[0], "--output", str(tmp_path / "missing" / "pm.md")])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    # The path as given, and why: never the name of a temporary file.
    assert line == f"incident-tui: error: cannot write {tmp_path / 'missing' / 'pm.md'}: directory {tmp_path / 'missing'} does not exist"


# --- --output writes into what it is given, and replaces only regular files -------------------


def export_to(env, target, *extra):
    return CliRunner().invoke(main, ["export", env[0], "--format", "text", "--output", str(target), *extra])


def test_a_new_export_file_is_private(env, tmp_path):
    out = tmp_path / "pm.txt"
    assert export_to(env, out).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600


def test_an_existing_file_is_refused_without_force_and_replaced_with_it(env, tmp_path):
    out = tmp_path / "pm.txt"
    out.write_text("my notes, not an export\n")
    result = export_to(env, out)
    assert result.exit_code == 1
    assert result.stderr == f"incident-tui: error: {out} exists; nothing was written; --force replaces it\n"
    assert out.read_text() == "my notes, not an export\n"
    assert export_to(env, out, "--force").exit_code == 0
    assert out.read_text(encoding="utf-8") == env[2]["text"]


def test_force_through_a_symlink_replaces_the_file_and_keeps_the_link(env, tmp_path):
    real, link = tmp_path / "real.txt", tmp_path / "link.txt"
    real.write_text("old\n")
    link.symlink_to(real)
    assert export_to(env, link, "--force").exit_code == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8") == env[2]["text"]


def test_dash_is_stdout(env, tmp_path):
    result = export_to(env, "-")
    assert result.exit_code == 0 and result.stdout == env[2]["text"]
    assert not (Path.cwd() / "-").exists()


def character_device(tmp_path: Path) -> Path:
    """A null device of our own when we may make one (root), else the system's /dev/null."""
    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        return Path("/dev/null")
    return node


def test_a_character_device_stays_a_device(env, tmp_path):
    device = character_device(tmp_path)
    result = export_to(env, device)
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat(device).st_mode)  # written into, not replaced by a file
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_fifo_is_written_not_replaced(env, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []

    def reader():
        with open(fifo, "rb") as fh:
            received.append(fh.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    result = export_to(env, fifo)
    thread.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert received == [env[2]["text"].encode()]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_dev_stdout_is_this_process_stdout(env, tmp_path):
    incident_id, db_path, expected = env
    for target in ("/dev/stdout", "/dev/fd/1"):
        proc = subprocess.run(
            [sys.executable, "-m", "incident_tui", "export", incident_id, "--format", "slack", "--output", target],
            capture_output=True, env=headless_env(db_path), timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.decode() == expected["slack"]


def test_a_directory_is_refused_naming_it(env, tmp_path):
    from incident_tui.services.files import OutputError, write_output

    with pytest.raises(OutputError, match=f"^{tmp_path} is a directory"):
        write_output(tmp_path, "x")
