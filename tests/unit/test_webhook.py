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


# --- bounded under load, timeouts, token, escaped log -------------------------------------------

import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import unicodedata  # noqa: E402

from incident_tui.services.webhook import WebhookConfigError  # noqa: E402


@pytest.fixture
def make(db, clock):
    """Start servers with chosen limits; every one is stopped at the end."""
    started = []

    def start(**kwargs):
        lines = []
        srv = make_server(AlertService(db, config=Config(user="t"), clock=clock), port=0,
                          **{"host": "127.0.0.1", "max_body": LIMIT, "log": lines.append, **kwargs})
        srv.lines = lines
        started.append((srv, serve_in_thread(srv)))
        return srv

    yield start
    for srv, thread in started:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=30)


def test_200_concurrent_posts_are_all_answered_by_a_small_pool(make, db):
    srv = make(workers=2)
    body = (PAYLOADS / "alertmanager_firing.json").read_bytes()
    barrier = threading.Barrier(200)
    statuses, failures = [], []

    def sender():
        try:
            barrier.wait(timeout=60)
            statuses.append(post(srv, "/alertmanager", body)[0])
        except Exception as exc:  # a reset or refused connection is what this test is about
            failures.append(repr(exc))

    threads = [threading.Thread(target=sender) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == [] and statuses == [200] * 200
    assert len(Repository(db).incidents) == 1  # one alert group, re-sent: one incident


def test_idle_connections_cost_no_threads_and_are_dropped(make):
    srv = make(header_timeout=1.0)
    before = threading.active_count()
    host, port = srv.server_address[:2]
    idle = [socket.create_connection((host, port), timeout=30) for _ in range(500)]
    try:
        time.sleep(0.3)
        assert threading.active_count() <= before + 4  # not one thread per connection
        status, data = post(srv, "/", b"", method="GET")  # a real client is still served
        assert status == 200 and data["ok"] is True
        for sock in idle[:20]:  # the server hangs up on a client that sends nothing
            assert sock.recv(1) == b""
        # And on one that trickles its headers a byte at a time: the deadline is for the whole header.
        with socket.create_connection((host, port), timeout=30) as trickler:
            with pytest.raises((BrokenPipeError, ConnectionResetError)):
                for char in b"POST /alertmanager HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
                    trickler.sendall(bytes([char]))
                    time.sleep(0.05)
    finally:
        for sock in idle:
            sock.close()


def test_a_public_address_needs_a_token(db):
    with pytest.raises(WebhookConfigError, match="INCIDENT_TUI_WEBHOOK_TOKEN"):
        make_server(AlertService(db), host="0.0.0.0", port=0)


def test_token_is_required_and_accepted_either_way(make, db):
    srv = make(host="0.0.0.0", token="s3cret-token")
    host, port = "127.0.0.1", srv.server_address[1]
    body = (PAYLOADS / "alertmanager_firing.json").read_bytes()

    def send(path, headers=None):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.getheader("WWW-Authenticate"), response.read()
        finally:
            conn.close()

    status, challenge, _ = send("/alertmanager")
    assert status == 401 and challenge.startswith("Bearer")
    assert send("/alertmanager", {"Authorization": "Bearer wrong"})[0] == 401
    assert send("/alertmanager?token=s3cret-tokeN")[0] == 401
    assert nothing_written(db)
    assert send("/alertmanager", {"Authorization": "Bearer s3cret-token"})[0] == 200
    assert send("/alertmanager?token=s3cret-token")[0] == 200
    assert not any("s3cret" in line for line in srv.lines)  # the token never reaches the log


def raw_controls(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) == "Cc" or c in "\u202e\u2066\u2028"]


@pytest.mark.parametrize("target", [b"/\x1b]0;PWNED\x07\x1b]52;c;Zm9v\x07", b"/%1b]0;PWNED%07%e2%80%ae?x=%1b[2J"])
def test_a_hostile_request_line_is_logged_visibly_in_one_line(make, target):
    srv = make()
    host, port = srv.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert re.match(rb"HTTP/1\.[01] 4\d\d ", sock.recv(4096))
    deadline = time.monotonic() + 10
    while not srv.lines and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(srv.lines) == 1, srv.lines
    assert raw_controls(srv.lines[0]) == [] and "PWNED" in srv.lines[0]
    assert "Traceback" not in srv.lines[0]


def test_a_client_that_hangs_up_mid_body_is_one_line(make, db):
    srv = make()
    host, port = srv.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{\"alerts\": [")
    time.sleep(0.5)
    assert len(srv.lines) == 1 and "dropped" in srv.lines[0], srv.lines
    assert nothing_written(db)
