"""`ingest`, `serve-webhook` and `metrics` from the command line."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from incident_tui.store.repository import Repository
from incident_tui.store.storage import open_db

PAYLOADS = Path(__file__).parent / "payloads"
ID_RE = re.compile(r"^INC-\d{8}-\d{3}$")


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(tmp_path / "no-config.toml"))


def stored(db_path):
    db = open_db(db_path)
    try:
        repo = Repository(db)
        return repo.list_incidents(), len(repo.events)
    finally:
        db.close()


def test_ingest_from_stdin_prints_the_ids(run, db_path):
    result = run("ingest", "alertmanager", input=(PAYLOADS / "alertmanager_firing.json").read_text())
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and ID_RE.match(lines[0]) and result.stderr == ""
    (incident,), _ = stored(db_path)
    assert incident.id == lines[0] and incident.prompt_id == "support-summary"


def test_ingest_from_file_and_json(run):
    result = run("ingest", "grafana", "--file", str(PAYLOADS / "grafana_firing.json"), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] and data["results"][0]["action"] == "created"
    again = run("ingest", "grafana", "--file", str(PAYLOADS / "grafana_firing.json"))
    assert again.stdout.strip() == data["incidents"][0]  # touched (unchanged) ids are printed too


def test_refused_alerts_exit_1_with_one_line_each(run, db_path):
    result = run("ingest", "alertmanager", input=(PAYLOADS / "alertmanager_malformed.json").read_text())
    assert result.exit_code == 1
    # The good alert and the one without a prompt label (unassigned) are recorded.
    ids = result.stdout.split()
    assert len(ids) == 2 and all(ID_RE.match(i) for i in ids)
    errors = result.stderr.splitlines()
    assert len(errors) == 5 and all(line.startswith("incident-tui: error: alerts[") for line in errors)
    assert errors[0] == "incident-tui: error: alerts[0]: missing labels"
    assert [line.split("]")[0][-1] for line in errors] == list("01235")  # payload order
    assert len(stored(db_path)[0]) == 2


@pytest.mark.parametrize(
    "payload, message",
    [
        ('{"receiver": ', "stdin: bad JSON"),
        ("", "stdin: empty body"),
        ('{"alerts": 3}', '"alerts" must be a list'),
        ('{"version": "1", "orgId": 1, "alerts": []}', "looks like a Grafana payload"),
    ],
)
def test_unusable_input_is_one_line_and_writes_nothing(run, db_path, payload, message):
    result = run("ingest", "alertmanager", input=payload)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr and "nothing was recorded" in result.stderr
    assert stored(db_path) == ([], 0)


def test_unknown_kind_is_a_usage_error(run):
    assert run("ingest", "pagerduty", input="{}").exit_code == 2


def test_metrics_plain_and_json(run):
    run("ingest", "alertmanager", input=(PAYLOADS / "alertmanager_firing.json").read_text())
    run("ingest", "grafana", input=(PAYLOADS / "grafana_firing.json").read_text())
    plain = run("metrics")
    assert plain.exit_code == 0
    assert plain.stdout.startswith("Incidents: 2 (all incidents)")
    assert re.search(r"Time to detect\s+\S", plain.stdout) and "Per prompt:" in plain.stdout
    assert re.search(r"Time to contain\s+—\s+—\s+0\s+2", plain.stdout)  # missing, not zero
    data = json.loads(run("metrics", "--json", "--prompt", "faq-answer").stdout)
    assert data["incidents"] == 1 and data["filters"]["prompt"] == "faq-answer"
    assert data["times"]["detect"]["count"] == 1 and data["times"]["contain"]["missing"] == 1
    none = json.loads(run("metrics", "--json", "--severity", "p3").stdout)
    assert none["incidents"] == 0 and none["times"]["detect"]["mean_s"] is None
    period = json.loads(run("metrics", "--json", "--since", "2000-01-01", "--until", "2000-02-01").stdout)
    # 2000-01-01 is a Saturday: its week starts 1999-12-27; the last one 2000-01-31
    assert period["incidents"] == 0 and [w["week"] for w in period["weekly"]][::5] == ["1999-12-27", "2000-01-31"]


def test_metrics_bad_time_is_one_line(run):
    result = run("metrics", "--since", "last tuesday")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "cannot read time" in result.stderr


# --- real processes ---------------------------------------------------------------------------


def cli(db_path, *args, input=None):
    env = {**os.environ, "INCIDENT_TUI_CONFIG": str(db_path.parent / "no-config.toml")}
    return subprocess.run(
        [sys.executable, "-m", "incident_tui", "--db", str(db_path), *args],
        input=input, capture_output=True, env=env, timeout=120,
    )


def test_real_process_reads_a_piped_payload(db_path):
    done = cli(db_path, "ingest", "alertmanager", input=(PAYLOADS / "alertmanager_firing.json").read_bytes())
    assert done.returncode == 0, done.stderr
    assert ID_RE.match(done.stdout.decode().strip())
    assert len(stored(db_path)[0]) == 1


def test_concurrent_processes_never_duplicate_an_incident(db_path):
    payload = (PAYLOADS / "alertmanager_firing.json").read_bytes()
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda _: cli(db_path, "ingest", "alertmanager", input=payload), range(4)))
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    ids = {r.stdout.decode().strip() for r in runs}
    incidents, _ = stored(db_path)
    assert len(incidents) == 1 and ids == {incidents[0].id}


def test_serve_webhook_process(db_path):
    env = {**os.environ, "INCIDENT_TUI_CONFIG": str(db_path.parent / "no-config.toml")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "incident_tui", "--db", str(db_path), "serve-webhook", "--port", "0"],
        stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        line = proc.stderr.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=30)
        conn.request("POST", "/alertmanager", body=(PAYLOADS / "alertmanager_firing.json").read_bytes(),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = json.loads(response.read())
        conn.close()
        assert response.status == 200 and ID_RE.match(data["incidents"][0])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        proc.stderr.close()
    assert proc.returncode == 0
    assert len(stored(db_path)[0]) == 1


def test_serve_webhook_on_a_public_address_needs_a_token(run, monkeypatch):
    monkeypatch.delenv("INCIDENT_TUI_WEBHOOK_TOKEN", raising=False)
    result = run("serve-webhook", "--host", "0.0.0.0", "--port", "0")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("incident-tui: error: listening on 0.0.0.0 needs a shared-secret token")
