"""`serve-webhook`: a small HTTP endpoint Alertmanager or Grafana can post to directly.

Standard library only (ThreadingHTTPServer). Loopback by default: there is no
authentication, so exposing it beyond this machine is the operator's explicit choice.

POST (or PUT) /alertmanager, /grafana, or / (the sender is guessed from the payload):
  200 with the ingest report as JSON when every alert was accepted;
  422 with the same report when some alerts were refused (the others are written);
  400 with {"error": ...} for a body that is not JSON or not a webhook payload (nothing written);
  413 when the body is over the size limit (nothing is parsed), 411 without Content-Length.
GET / answers a small JSON health document.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from incident_tui.domain.alerts import PayloadError
from incident_tui.services.alerts import AlertService

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9095

ROUTES = {"/alertmanager": "alertmanager", "/grafana": "grafana", "/": "auto"}


def decode_json(body: bytes) -> Any:
    """The payload from request bytes; ValueError with one line when it is not UTF-8 JSON."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("body is not UTF-8 text") from None
    if not text.strip():
        raise ValueError("empty body: expected a JSON webhook payload")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"bad JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ValueError("bad JSON: nested too deeply") from None


class WebhookServer(ThreadingHTTPServer):
    """The HTTP server; ``service`` does the work, ``log`` receives one line per request."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        service: AlertService,
        *,
        max_body: int = MAX_BODY_BYTES,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.service = service
        self.max_body = max_body
        self.log = log or (lambda line: None)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, WebhookHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"


class WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookServer
    server_version = "incident-tui-webhook"
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, data: Any, *, close: bool = False) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, *, close: bool = False) -> None:
        self._send(status, {"error": message}, close=close)

    def do_GET(self) -> None:  # noqa: N802 (the standard library's naming)
        if self.path.split("?", 1)[0] != "/":
            self._error(HTTPStatus.NOT_FOUND, "not found: POST to /alertmanager or /grafana")
            return
        self._send(HTTPStatus.OK, {"ok": True, "service": "incident-tui", "endpoints": sorted(ROUTES)})

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        kind = ROUTES.get(path)
        if kind is None:
            self._error(HTTPStatus.NOT_FOUND, "not found: POST to /alertmanager, /grafana or /", close=True)
            return
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._error(HTTPStatus.LENGTH_REQUIRED, "chunked bodies are not accepted: send Content-Length", close=True)
            return
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self._error(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required", close=True)
            return
        if length > self.server.max_body:
            # Drain a moderately large body in small chunks, so the client reads our 413 rather
            # than a connection reset; anything bigger is simply cut off.
            if length <= 8 * self.server.max_body:
                remaining = length
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 64 * 1024))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"payload of {length} bytes is over the limit of {self.server.max_body} bytes",
                close=True,
            )
            return
        body = self.rfile.read(length)
        try:
            payload = decode_json(body)
        except ValueError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        try:
            report = self.server.service.ingest(kind, payload)
        except PayloadError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        except Exception as exc:  # a store failure: the sender should retry (5xx), we stay up
            self.server.log(f"error: ingest failed: {type(exc).__name__}: {exc}")
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "ingest failed; see the server's log")
            return
        for result in report.results:
            self.server.log(f"{result.action}: {result.message}")
        for error in report.errors:
            self.server.log(f"refused: {error}")
        status = HTTPStatus.OK if report.ok else HTTPStatus.UNPROCESSABLE_ENTITY
        self._send(status, report.to_dict())

    # Grafana's webhook contact point can be set to PUT; the body is the same.
    do_PUT = do_POST  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        self.server.log(f"{self.address_string()} {format % args}")


def make_server(
    service: AlertService,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_body: int = MAX_BODY_BYTES,
    log: Callable[[str], None] | None = None,
) -> WebhookServer:
    """Bind (port 0 picks a free one); call ``serve_forever()`` to run, ``shutdown()`` to stop."""
    return WebhookServer((host, port), service, max_body=max_body, log=log)


def serve_in_thread(server: WebhookServer, *, poll_interval: float = 0.5) -> threading.Thread:
    """Run ``server`` in a daemon thread (tests, or an app that wants the endpoint in-process).

    ``poll_interval`` bounds how long ``shutdown()`` waits for the loop to notice.
    """
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name="incident-tui-webhook", daemon=True
    )
    thread.start()
    return thread


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
