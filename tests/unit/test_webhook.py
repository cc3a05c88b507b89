"""The webhook endpoint on 127.0.0.1 with an ephemeral port."""

import http.client
import json
import socket
from pathlib import Path

import pytest

from incident_tui.config import Config
from incident_tui.services.alerts import AlertService
from incident_tui.services.webhook import (
    decode_json,
    is_loopback,
    make_server,
    serve_in_thread,
)
from incident_tui.store.repository import Repository

PAYLOADS = Path(__file__).parent / "payloads"
LIMIT = 64 * 1024


@pytest.fixture
def server(db, clock):
    lines = []
    srv = make_server(AlertService(db, config=Config(user="t"), clock=clock), host="127.0.0.1", port=0,
                      max_body=LIMIT, log=lines.append)
    srv.lines = lines
    thread = serve_in_thread(srv, poll_interval=0.05)
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def post(server, path, body: bytes, headers=None, method="POST"):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def nothing_written(db):
    repo = Repository(db)
    return len(repo.incidents) == 0 and len(repo.events) == 0


def test_alertmanager_post_creates_an_incident(server, db):
    status, data = post(server, "/alertmanager", (PAYLOADS / "alertmanager_firing.json").read_bytes())
    assert status == 200 and data["ok"] is True
    (incident,) = Repository(db).list_incidents()
    assert data["incidents"] == [incident.id]
    assert [r["action"] for r in data["results"]] == ["created", "updated"]
    assert any(line.startswith("created: ") for line in server.lines)
    # Alertmanager re-sends the group: no duplicate
    status, data = post(server, "/alertmanager", (PAYLOADS / "alertmanager_firing.json").read_bytes())
    assert status == 200 and [r["action"] for r in data["results"]] == ["unchanged", "unchanged"]
    assert len(Repository(db).incidents) == 1


def test_grafana_post_and_put_autodetected_on_root(server, db):
    status, data = post(server, "/grafana", (PAYLOADS / "grafana_firing.json").read_bytes())
    assert status == 200 and data["results"][0]["action"] == "created" and data["kind"] == "grafana"
    status, data = post(server, "/", (PAYLOADS / "grafana_resolved.json").read_bytes(), method="PUT")
    assert status == 200 and data["kind"] == "grafana" and data["results"][0]["action"] == "resolved"


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"alerts": [', "bad JSON"),
        (b"", "empty body"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"alerts": 5}', '"alerts" must be a list'),
        (b"[" * 100_00 + b"]" * 100_00, "bad JSON"),
    ],
)
def test_bad_body_is_400_and_nothing_is_written(server, db, body, message):
    status, data = post(server, "/alertmanager", body)
    assert status == 400 and message in data["error"]
    assert nothing_written(db)


def test_over_the_limit_is_413_and_nothing_is_written(server, db):
    payload = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    payload["alerts"][0]["annotations"]["description"] = "x" * (LIMIT + 1)
    status, data = post(server, "/alertmanager", json.dumps(payload).encode())
    assert status == 413 and "over the limit" in data["error"]
    assert nothing_written(db)


def test_far_over_the_limit_is_cut_off_without_reading(server, db):
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(f"POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: {LIMIT * 1000}\r\n\r\n".encode())
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413") and "Connection: close" in reply
    assert nothing_written(db)


def test_refused_alerts_give_422_and_the_good_ones_are_kept(server, db):
    status, data = post(server, "/alertmanager", (PAYLOADS / "alertmanager_malformed.json").read_bytes())
    assert status == 422 and data["ok"] is False and len(data["errors"]) == 5
    assert len(Repository(db).incidents) == 2  # the good alert, and the unlabelled one as unassigned
    assert any(line.startswith("refused: alerts[0]") for line in server.lines)


def test_unknown_path_get_and_missing_length(server, db):
    status, data = post(server, "/pagerduty", b"{}")
    assert status == 404
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 200 and json.loads(response.read())["ok"] is True
    conn.close()
    # A chunked body (no Content-Length) is refused without reading it.
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"POST /alertmanager HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 411")
    assert nothing_written(db)


def test_decode_json_and_loopback_helpers():
    assert decode_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}  # a BOM is tolerated
    with pytest.raises(ValueError, match="line 1 column"):
        decode_json(b"{x")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
