"""Every CLI output path shows outside text literally: no escape, C1 or bidi control reaches the terminal.

The store cleans what it is given, but a database can be hand-edited or written by an older
version, and bidi marks are legitimate stored text: so the hostile text here goes straight into
the store, under the service, and every printer must neutralise it on the way out.
"""

from __future__ import annotations

import json
import unicodedata

import pytest

from incident_tui.domain.models import EventKind, TimelineEvent
from incident_tui.domain.text import BIDI_CONTROLS
from incident_tui.domain.times import local_now
from incident_tui.services.incidents import IncidentService
from incident_tui.store.repository import Repository
from incident_tui.store.storage import open_db

OSC = "\x1b]0;PWNED\x07\x1b]52;c;cm0gLXJmIH4=\x07"
RAW = f"{OSC}\x1b[2J\x9b1m\u202eevil\u202c\u2066x\u2069\u2028y"


def raw_controls(text: str) -> list[str]:
    return [
        ch for ch in text
        if (unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in BIDI_CONTROLS or ch in "\u2028\u2029"
    ]


def strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from strings(item)


@pytest.fixture
def hostile(db_path):
    db = open_db(db_path)
    incident = IncidentService(db).declare(title="placeholder", prompt_id="support-summary", version=None,
                                           severity="P1", detected_by="alert", new_prompt=True)
    repo = Repository(db)
    incident.title = f"Refunds {RAW}"
    incident.prompt_id = f"summ{RAW}"
    incident.hypothesis = f"first {RAW}\nsecond line"
    incident.commander = f"ana{RAW}"
    repo.save_incident(incident)
    repo.add_event(TimelineEvent(incident.id, local_now(), EventKind.NOTE, f"note {RAW}", author=f"bo{RAW}",
                                 starred=True))
    db.close()
    return incident.id


@pytest.mark.parametrize("args", [["list"], ["show", "{id}"], ["timeline", "{id}"], ["metrics"]])
def test_plain_text_printers_show_controls_visibly(run, hostile, args):
    result = run(*[a.format(id=hostile) for a in args])
    assert result.exit_code == 0, result.output
    assert raw_controls(result.stdout) == []
    assert "␛]0;PWNED␇" in result.stdout and "<U+202E>evil" in result.stdout


def test_list_keeps_one_incident_on_one_line(run, hostile):
    lines = run("list").stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(hostile) and "<U+2028>y" in lines[0]


def test_show_keeps_real_line_breaks_of_multiline_fields(run, hostile):
    out = run("show", hostile).stdout
    assert "first ␛]0;PWNED␇" in out and "\nsecond line\n" in out


@pytest.mark.parametrize("args", [["list", "--json"], ["show", "{id}", "--json"], ["timeline", "{id}", "--json"],
                                  ["metrics", "--json"]])
def test_json_stays_json_with_every_control_escaped(run, hostile, args):
    result = run(*[a.format(id=hostile) for a in args])
    assert result.exit_code == 0, result.output
    assert raw_controls(result.stdout) == []
    data = json.loads(result.stdout)
    assert any(RAW in text for text in strings(data))  # the data itself is intact


def test_errors_on_stderr_are_one_visible_line(run):
    result = run("show", f"INC-{OSC}\u202e")
    assert result.exit_code == 1
    assert raw_controls(result.stderr) == [] and len(result.stderr.splitlines()) == 1
    assert "␛]0;PWNED␇" in result.stderr


def test_ingest_error_naming_a_hostile_file_is_visible(run, tmp_path):
    bad = tmp_path / f"payload{OSC}\u202e.json"
    bad.write_text("{not json")
    result = run("ingest", "alertmanager", "--file", str(bad))
    assert result.exit_code == 1
    assert raw_controls(result.stderr) == [] and "payload␛]0;PWNED␇␛]52;c;cm0gLXJmIH4=␇<U+202E>.json" in result.stderr


def test_ingest_warnings_and_refusals_are_visible(run):
    payload = {"version": "4", "status": "firing", "receiver": "r", "groupKey": "g", "alerts": [
        {"status": "firing", "labels": {"alertname": "A\u202eB", "prompt_id": "p\u202eq"},
         "annotations": {"summary": "s\u2066x"}, "startsAt": "2026-11-25T13:00:00Z", "fingerprint": "f1"},
        {"status": "nope\u202e", "labels": {"alertname": "B"}, "startsAt": "2026-11-25T13:00:00Z"},
    ]}
    result = run("ingest", "alertmanager", input=json.dumps(payload))
    assert raw_controls(result.stdout) == [] and raw_controls(result.stderr) == []
    assert result.stderr.strip(), "the refused alert is reported"


def test_prompts_list_and_json_show_hostile_ids_and_notes(run, tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("be brief\n")
    assert run("prompts", "add", f"p{OSC}", str(f), "--note", f"n{OSC}\u202e").exit_code == 0
    for args in (["prompts", "list"], ["prompts", "list", "--json"]):
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert raw_controls(result.stdout) == []


@pytest.fixture
def hostile_prompt(run, tmp_path):
    old, new = tmp_path / "v1.txt", tmp_path / "v2.txt"
    old.write_text("You are helpful.\nAnswer briefly.\n")
    new.write_bytes(f"You are helpful.\nAnswer {OSC}\u202ebriefly.\r\nNo final newline".encode())
    assert run("prompts", "add", "p", str(old)).exit_code == 0
    assert run("prompts", "add", "p", str(new)).exit_code == 0
    return old, new


def test_unified_diff_into_a_pipe_is_byte_exact(run, hostile_prompt):
    result = run("prompts", "diff", "p", "1", "2", "--format", "unified")
    assert result.exit_code == 0
    assert f"+Answer {OSC}\u202ebriefly.\r\n".encode() in result.stdout_bytes
    assert result.stdout_bytes.endswith(b"+No final newline\n\\ No newline at end of file\n")


def test_unified_diff_on_a_terminal_shows_controls(run, hostile_prompt, monkeypatch):
    from incident_tui import cli_prompts

    monkeypatch.setattr(cli_prompts, "_stdout_is_terminal", lambda: True)
    result = run("prompts", "diff", "p", "1", "2", "--format", "unified")
    assert result.exit_code == 0
    assert raw_controls(result.stdout) == []
    assert "+Answer ␛]0;PWNED␇␛]52;c;cm0gLXJmIH4=␇<U+202E>briefly.␍\n" in result.stdout


def test_unified_diff_terminal_check_reads_stdout(monkeypatch):
    import io

    from incident_tui import cli_prompts

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdout", Tty())
    assert cli_prompts._stdout_is_terminal()
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert not cli_prompts._stdout_is_terminal()


@pytest.mark.parametrize("fmt", ["side-by-side", "json"])
def test_other_diff_formats_are_safe_too(run, hostile_prompt, fmt):
    result = run("prompts", "diff", "p", "1", "2", "--format", fmt)
    assert result.exit_code == 0 and raw_controls(result.stdout) == []

