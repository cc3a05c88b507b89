"""Team mode: the dashboard in a browser (textual-serve), one app process per tab, behind a token.

textual-serve has no authentication of its own. Every request here needs the per-start token:
the first page load carries it as ``?token=…`` and trades it for an HttpOnly, SameSite=Strict
cookie (and a redirect that drops it from the address bar); later requests, the websocket
included, present the cookie. Comparisons are constant-time. The app command is built from
``sys.executable`` and quoted arguments, never from request text; a tab's ``?user=NAME`` reaches
its app process through the environment only, after validation.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import secrets
import shlex
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from incident_tui.config import USER_ENV
from incident_tui.domain.presence import valid_user
from incident_tui.domain.text import clean

TOKEN_ENV = "INCIDENT_TUI_SERVE_TOKEN"
COOKIE = "incident_tui_token"

log = logging.getLogger("incident-tui.serve")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(db_path: Path, config_path: Path | None) -> str:
    """The command each tab runs: this Python, this package, the same DB and config (quoted)."""
    argv = [sys.executable, "-m", "incident_tui", "--db", str(db_path)]
    if config_path is not None:
        argv += ["--config", str(config_path)]
    return shlex.join(argv)


class _TabAppService(AppService):
    """One tab's app process, with the tab's responder name in its environment."""

    def __init__(self, *args: Any, user: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width=width, height=height)
        env.pop(TOKEN_ENV, None)  # the app has no use for it
        if self.user:
            env[USER_ENV] = self.user
        return env


class _SafeFormatter(logging.Formatter):
    """Log lines carry request text: never let it reach the operator's terminal as control sequences."""

    def format(self, record: logging.LogRecord) -> str:
        return clean(super().format(record))


class TeamServer(Server):
    """textual-serve's Server with a token on every request and a per-tab user."""

    def __init__(self, *, db_path: Path, config_path: Path | None, host: str, port: int,
                 token: str | None = None) -> None:
        super().__init__(app_command(db_path, config_path), host=host, port=port, title="incident-tui")
        self.token = token or secrets.token_urlsafe(24)

    # --- who may come in -------------------------------------------------------------

    def _valid(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.token.encode())

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self._valid(request.query.get("token")):
            if request.path == "/" and request.method == "GET":
                # Trade the token in the address bar for a cookie the page and its websocket send.
                rest = {k: v for k, v in request.query.items() if k != "token"}
                response = web.HTTPFound("/" + ("?" + urlencode(rest) if rest else ""))
                response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", path="/")
                return response
            return await handler(request)
        if self._valid(request.cookies.get(COOKIE)):
            if request.path.startswith("/ws") and not self._same_origin(request):
                return web.Response(status=403, text="403: cross-site websocket refused\n")
            return await handler(request)
        return web.Response(
            status=401, text="401: this needs the token: open the URL that `incident-tui serve` printed\n"
        )

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser: the cookie alone decides
            return True
        return origin.split("://", 1)[-1] == request.host

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._auth)
        app.router.add_get("/ws/as/{user}", self.handle_websocket)
        return app

    # --- the page and the tabs --------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        user = request.query.get("user")
        if user is not None and not valid_user(user):
            return web.Response(status=400, text="400: user names are letters, digits, '.', '-' and '_'\n")
        base = f"{request.scheme}://{request.host}"
        ws_path = f"/ws/as/{user}" if user else "/ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": ("wss" if request.scheme == "https" else "ws") + f"://{request.host}{ws_path}",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": "incident-tui" + (f" · {user}" if user else "")},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        user = request.match_info.get("user")
        if user is not None and not valid_user(user):
            raise web.HTTPBadRequest(text="bad user name")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None
        try:
            await websocket.prepare(request)
            app_service = _TabAppService(
                self.command,
                user=user,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one line, not a traceback: the tab just ends
            log.error("tab ended: %s", error)
        return websocket

    # --- what the operator sees ---------------------------------------------------------

    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/?token={self.token}"

    def initialize_logging(self) -> None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_SafeFormatter("%(asctime)s %(name)s %(message)s", "%H:%M:%S"))
        logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)

    def serve(self, debug: bool = False) -> None:
        """Like textual-serve's, but the URL is printed once the socket listens, not before."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        except NotImplementedError:  # pragma: no cover - not on this platform
            pass
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                    print=self._listening, access_log=log)

    def _listening(self, *_args: object) -> None:
        # aiohttp calls this after the site started: the first line on stdout is the URL, usable at once.
        print(self.url(), flush=True)

    async def on_startup(self, app: web.Application) -> None:
        if not is_loopback(self.host):
            print(
                f"warning: listening on {self.host}: traffic (the token included) is unencrypted "
                "unless a TLS proxy is in front",
                file=sys.stderr, flush=True,
            )
        print("incident-tui serve: one dashboard per browser tab; ctrl+c stops", file=sys.stderr, flush=True)


def token_from_env() -> str | None:
    value = os.environ.get(TOKEN_ENV, "").strip()
    return value or None
