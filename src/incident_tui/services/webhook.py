"""`serve-webhook`: a small HTTP endpoint Alertmanager or Grafana can post to directly.

aiohttp on one asyncio loop: a held-open connection costs a file descriptor, not a thread.
Ingest (a blocking store write) runs in a small thread pool, and at most ``max_in_flight``
request bodies are read at once, so memory and threads stay bounded under any load. A
connection that sends nothing, or sends its headers too slowly, is dropped after
``header_timeout`` seconds; a body must arrive within ``body_timeout``. The listen backlog
is ``backlog`` (the kernel may cap it at net.core.somaxconn).

Loopback by default. Any other address needs a shared-secret token (``--token`` or
INCIDENT_TUI_WEBHOOK_TOKEN), sent as ``Authorization: Bearer <token>`` or ``?token=<token>``
(Alertmanager's http_config and Grafana's contact point can send either); it is compared in
constant time and a request without it gets 401. A token given on loopback is required too.

POST (or PUT) /alertmanager, /grafana, or / (the sender is guessed from the payload):
  200 with the ingest report as JSON when every alert was accepted;
  422 with the same report when some alerts were refused (the others are written);
  400 with {"error": ...} for a body that is not JSON or not a webhook payload (nothing written);
  413 when the body is over the size limit (nothing is parsed), 411 without Content-Length.
GET / answers a small JSON health document.

The log gets one line per request (and per ingest result); request lines and every other
outside text in it are shown with controls visible (domain.text.visible), never applied.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode

from incident_tui.domain.errors import IncidentTuiError
from incident_tui.domain.alerts import PayloadError, decode_json
from incident_tui.domain.text import json_safe, visible
from incident_tui.services.alerts import AlertService

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9095
TOKEN_ENV = "INCIDENT_TUI_WEBHOOK_TOKEN"
DEFAULT_WORKERS = 4
DEFAULT_BACKLOG = 1024
HEADER_TIMEOUT = 5.0
BODY_TIMEOUT = 15.0
MAX_IN_FLIGHT = 32

ROUTES = {"/alertmanager": "alertmanager", "/grafana": "grafana", "/": "auto"}


class WebhookConfigError(IncidentTuiError, ValueError):
    """The server cannot start as asked (e.g. a public address without a token)."""


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


class _Reply(Exception):
    """A finished answer: status, JSON document, and whether the connection must close."""

    def __init__(self, status: int, data: Any, *, close: bool = False, note: str = "") -> None:
        super().__init__(status)
        self.status, self.data, self.close, self.note = status, data, close, note


class _OneLine(logging.Handler):
    """aiohttp's own errors (a request it cannot parse, a reset): one visible line, no traceback."""

    def __init__(self, log: Callable[[str], None]) -> None:
        super().__init__()
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                detail = " ".join(str(exc).split())[:300] or "-"
                message = f"{message}: {type(exc).__name__}: {detail}"
            self._log(message)
        except Exception:  # a log line must never take the server down
            pass


class WebhookServer:
    """The HTTP server; ``service`` does the work, ``log`` receives one line per request.

    Bound on construction (``server_address`` is known, port 0 picks a free one);
    ``serve_forever()`` runs it, ``shutdown()`` (from another thread) stops it, ``server_close()``
    releases the socket and the pool.
    """

    def __init__(
        self,
        address: tuple[str, int],
        service: AlertService,
        *,
        max_body: int = MAX_BODY_BYTES,
        log: Callable[[str], None] | None = None,
        token: str | None = None,
        workers: int = DEFAULT_WORKERS,
        backlog: int = DEFAULT_BACKLOG,
        header_timeout: float = HEADER_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        host = address[0]
        if not is_loopback(host) and not token:
            raise WebhookConfigError(
                f"listening on {host} needs a shared-secret token: --token or {TOKEN_ENV} "
                "(senders pass it as Authorization: Bearer <token> or ?token=<token>)"
            )
        self.service = service
        self.max_body = max_body
        self.token = token or None
        self.backlog = backlog
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_in_flight = max_in_flight
        sink = log or (lambda line: None)
        self.log: Callable[[str], None] = lambda line: sink(visible(line))
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server(address, family=family, backlog=backlog)
        self.server_address = self.socket.getsockname()
        self.executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="incident-tui-ingest")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._running = threading.Event()
        self._done = threading.Event()
        self._closed = False

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    # --- running -------------------------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.5) -> None:  # noqa: ARG002 (socketserver's signature)
        """Serve until ``shutdown()`` (or KeyboardInterrupt in the calling thread)."""
        self._done.clear()
        try:
            asyncio.run(self._serve())
        finally:
            self._running.clear()
            self._done.set()

    async def _serve(self) -> None:
        from aiohttp import web

        app = web.Application(client_max_size=self.max_body)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        logger = logging.getLogger(f"incident_tui.webhook.{id(self)}")
        logger.propagate = False
        logger.handlers[:] = [_OneLine(self.log)]
        logger.setLevel(logging.INFO)  # aiohttp's debug lines (scanners sending non-HTTP) stay out
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,  # our own line per request, escaped
            logger=logger,
            # From the moment a connection opens (and between requests), a request's headers must
            # arrive within this: an idle or trickling connection is dropped.
            keepalive_timeout=self.header_timeout,
            lingering_time=2.0,
            shutdown_timeout=2.0,
        )
        await runner.setup()
        self._semaphore = asyncio.Semaphore(self.max_in_flight)
        site = web.SockSite(runner, self.socket, backlog=self.backlog)
        await site.start()
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._running.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` from another thread and wait for it to return."""
        if not self._running.wait(timeout=30) or self._loop is None or self._stop is None:
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._done.wait(timeout=30)

    def server_close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.socket.close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    # --- one request ---------------------------------------------------------------------

    async def _handle(self, request) -> Any:
        from aiohttp import web

        try:
            reply = await self._answer(request)
        except _Reply as done:
            reply = done
        except (asyncio.TimeoutError, TimeoutError):
            reply = _Reply(HTTPStatus.REQUEST_TIMEOUT, {"error": "the body did not arrive in time"}, close=True)
        except ConnectionError as exc:  # the client went away mid-request: one line, no traceback
            self.log(f"{request.remote} {self._request_line(request)} dropped: {type(exc).__name__}")
            response = web.Response(status=HTTPStatus.BAD_REQUEST)  # nobody will read it
            response.force_close()
            return response
        line = f"{request.remote} {self._request_line(request)} {int(reply.status)}"
        self.log(f"{line} {reply.note}" if reply.note else line)
        body = json_safe(json.dumps(reply.data, ensure_ascii=False)).encode("utf-8") + b"\n"
        response = web.Response(status=int(reply.status), body=body, content_type="application/json",
                                charset="utf-8")
        if reply.status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Bearer realm="incident-tui"'
        if reply.status == HTTPStatus.METHOD_NOT_ALLOWED:
            response.headers["Allow"] = "GET, POST, PUT"
        if reply.close:
            response.force_close()
        return response

    def _request_line(self, request) -> str:
        # The token never reaches the log, whichever way it came.
        query = [(k, "REDACTED" if k == "token" else v) for k, v in parse_qsl(request.query_string, keep_blank_values=True)]
        target = request.path + (f"?{urlencode(query)}" if query else "")
        return f'"{request.method} {target} HTTP/{request.version.major}.{request.version.minor}"'

    def _authorised(self, request) -> bool:
        if self.token is None:
            return True
        given = request.query.get("token")
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credential.strip():
            given = credential.strip()
        if given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.token.encode("utf-8"))

    async def _answer(self, request) -> _Reply:
        if not self._authorised(request):
            return _Reply(HTTPStatus.UNAUTHORIZED,
                          {"error": "unauthorized: send Authorization: Bearer <token> or ?token=<token>"},
                          note="(no or wrong token)")
        path = request.path.rstrip("/") or "/"
        if request.method == "GET":
            if path != "/":
                return _Reply(HTTPStatus.NOT_FOUND, {"error": "not found: POST to /alertmanager or /grafana"})
            return _Reply(HTTPStatus.OK, {"ok": True, "service": "incident-tui", "endpoints": sorted(ROUTES)})
        if request.method not in ("POST", "PUT"):  # Grafana's contact point can be set to PUT
            return _Reply(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use POST (or PUT)"}, close=True)
        kind = ROUTES.get(path)
        if kind is None:
            return _Reply(HTTPStatus.NOT_FOUND, {"error": "not found: POST to /alertmanager, /grafana or /"},
                          close=True)
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            return _Reply(HTTPStatus.LENGTH_REQUIRED, {"error": "chunked bodies are not accepted: send Content-Length"},
                          close=True)
        length = request.content_length
        if length is None:
            return _Reply(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length is required"}, close=True)
        if length > self.max_body:
            # Drain a moderately large body, so the client reads our 413 rather than a reset;
            # anything bigger is simply cut off.
            if length <= 8 * self.max_body:
                async with asyncio.timeout(self.body_timeout):
                    while await request.content.readany():
                        pass
            return _Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                          {"error": f"payload of {length} bytes is over the limit of {self.max_body} bytes"},
                          close=True)
        async with self._semaphore:  # bounded bodies in memory, bounded work queued
            async with asyncio.timeout(self.body_timeout):
                body = await request.read()
            try:
                payload = decode_json(body)
            except ValueError as exc:
                return _Reply(HTTPStatus.BAD_REQUEST, {"error": str(exc)}, note=str(exc))
            loop = asyncio.get_running_loop()
            try:
                report = await loop.run_in_executor(self.executor, self.service.ingest, kind, payload)
            except PayloadError as exc:
                return _Reply(HTTPStatus.BAD_REQUEST, {"error": str(exc)}, note=str(exc))
            except Exception as exc:  # a store failure: the sender should retry (5xx), we stay up
                self.log(f"error: ingest failed: {type(exc).__name__}: {exc}")
                return _Reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "ingest failed; see the server's log"})
        for result in report.results:
            self.log(f"{result.action}: {result.message}")
        for error in report.errors:
            self.log(f"refused: {error}")
        status = HTTPStatus.OK if report.ok else HTTPStatus.UNPROCESSABLE_ENTITY
        return _Reply(status, report.to_dict())


def make_server(
    service: AlertService,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_body: int = MAX_BODY_BYTES,
    log: Callable[[str], None] | None = None,
    token: str | None = None,
    workers: int = DEFAULT_WORKERS,
    **limits: Any,  # backlog, header_timeout, body_timeout, max_in_flight: see WebhookServer
) -> WebhookServer:
    """Bind (port 0 picks a free one); call ``serve_forever()`` to run, ``shutdown()`` to stop.

    A non-loopback ``host`` without ``token`` raises WebhookConfigError.
    """
    return WebhookServer((host, port), service, max_body=max_body, log=log, token=token, workers=workers, **limits)


def serve_in_thread(server: WebhookServer, *, poll_interval: float = 0.5) -> threading.Thread:
    """Run ``server`` in a daemon thread (tests, or an app that wants the endpoint in-process)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name="incident-tui-webhook", daemon=True
    )
    thread.start()
    server._running.wait(timeout=30)
    return thread
