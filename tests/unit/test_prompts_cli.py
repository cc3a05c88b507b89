"""`prompts …` subcommands through click's CliRunner, on a real db file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from incident_tui.cli_prompts import prompts
from incident_tui.store.storage import open_db


class Obj:
    """What the main CLI puts in ctx.obj: something with open_db(); it closes the db."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = None

    def open_db(self):
        if self.db is None:
            self.db = open_db(self.path)
        return self.db

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


@pytest.fixture
def run(tmp_path):
    db_path = tmp_path / "incidents.json"

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = Obj(db_path)
        ctx.call_on_close(ctx.obj.close)

    root.add_command(prompts)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(root, ["prompts", *map(str, args)], catch_exceptions=False)

    return invoke


@pytest.fixture
def history(openhands_history: Path) -> Path:
    return openhands_history


def test_import_dir_list_and_json(run, history):
    result = run("import-dir", history, "--prompt", "openhands")
    assert result.exit_code == 0
    assert result.stdout == "openhands: added 24 versions (v1–v24)\n"
    assert run("import-dir", history, "--prompt", "openhands").stdout == "openhands: nothing new\n"
    listed = json.loads(run("list", "openhands", "--json").stdout)
    assert [row["version"] for row in listed] == list(range(1, 25))
    assert {"version", "created_at", "source", "commit", "sha256", "labels"} <= set(listed[0])
    assert listed[4]["created_at"] == "2025-01-21T23:50:39+01:00"
    everything = json.loads(run("list", "--json").stdout)
    assert len(everything) == 24 and everything[0]["prompt_id"] == "openhands"
    text = run("list", "openhands").stdout.splitlines()
    assert text[0] == "openhands" and text[5].lstrip().startswith("v5")


def test_add_reports_new_or_unchanged(run, tmp_path):
    prompt_file = tmp_path / "p.txt"
    prompt_file.write_text("hello\n")
    assert run("add", "p", prompt_file, "--author", "ana").stdout == "p v1\n"
    assert run("add", "p", prompt_file).stdout == "p: unchanged (same text as v1)\n"
    prompt_file.write_text("hello there\n")
    assert run("add", "p", prompt_file).stdout == "p v2\n"


def test_diff_formats(run, history, tmp_path):
    run("import-dir", history, "--prompt", "openhands")
    side = run("diff", "openhands", 4, 5, "--width", 120)
    assert side.exit_code == 0
    lines = side.stdout.splitlines()
    assert lines[0] == "openhands v4 → v5: +2 −1 lines, 21 words changed, 2 changes"
    assert any(" + * You should start exploring" in line for line in lines)
    assert any(line.startswith("  5 - * The assistant MUST NOT") for line in lines)

    doc = json.loads(run("diff", "openhands", 4, 5, "--format", "json").stdout)
    assert doc["old_version"] == 4 and doc["new_version"] == 5
    assert [r["kind"] for r in doc["rows"]].count("equal") == 5

    unified = run("diff", "openhands", 4, 5, "--format", "unified").stdout_bytes
    assert unified.startswith(b"--- openhands@v4\n+++ openhands@v5\n@@ -1,6 +1,7 @@\n")
    if shutil.which("patch"):
        target = tmp_path / "v04.j2"
        target.write_bytes((history / "v04.j2").read_bytes())
        subprocess.run(["patch", "--batch", "--silent", str(target)], input=unified, check=True)
        assert target.read_bytes() == (history / "v05.j2").read_bytes()

    same = run("diff", "openhands", 4, 6)
    assert "identical" in same.stdout


def test_errors_are_one_line_on_stderr_with_nonzero_exit(run, history, tmp_path):
    run("import-dir", history, "--prompt", "openhands")
    for args in (
        ("diff", "openhands", 4, 99),
        ("diff", "nope", 1, 2),
        ("list", "nope"),
        ("add", "p", tmp_path / "missing.txt"),
        ("import-dir", tmp_path / "missing", "--prompt", "p"),
        ("import-git", tmp_path, "x.txt", "--prompt", "p"),
        ("diff", "openhands", 4, 5, "--format", "unified", "--ignore-whitespace"),
    ):
        result = run(*args)
        assert result.exit_code != 0, args
        assert result.stderr.count("\n") == 1, (args, result.stderr)
        assert result.stderr.startswith("incident-tui: error: "), (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_cli_module_does_not_import_textual():
    code = "import sys, incident_tui.cli_prompts; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
