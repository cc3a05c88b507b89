"""Team mode for real: `incident-tui serve`, its token, two browser tabs over textual-serve's
websocket protocol, headless Chromium, and presence between two dashboards in tmux."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from e2e.conftest import PROGRAM

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token-4f1c9a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(env: dict[str, str], tmp_path: Path) -> str:
    prompt = tmp_path / "support.txt"
    prompt.write_text("Summarise the ticket. Never promise refunds.\n")
    subprocess.run([str(PROGRAM), "prompts", "add", "support", str(prompt)], env=env, check=True,
                   capture_output=True)
    out = subprocess.run(
        [str(PROGRAM), "declare", "--title", "Summaries invent refunds", "--prompt", "support",
         "--severity", "P1", "--detected-by", "alert"],
        env=env, check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


@pytest.fixture
def served(tmp_path):
    if not PROGRAM.exists():
        pytest.skip(f"the installed program is missing: {PROGRAM.name} beside the test interpreter")
    env = {
        **os.environ,
        "INCIDENT_TUI_DB": str(tmp_path / "incidents.json"),
        "INCIDENT_TUI_CONFIG": str(tmp_path / "config.toml"),
        "INCIDENT_TUI_SERVE_TOKEN": TOKEN,
        "HOME": str(tmp_path),
    }
    (tmp_path / "config.toml").write_text('user = "host"\n')
    incident_id = seed(env, tmp_path)
    port = free_port()
    proc = subprocess.Popen([str(PROGRAM), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = proc.stdout.readline().strip()  # the URL to open is the first line
        assert first == f"http://127.0.0.1:{port}/?token={TOKEN}", proc.stderr.read() if not first else first
        yield {"base": f"http://127.0.0.1:{port}", "url": first, "env": env, "incident": incident_id}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class Tab:
    """One browser tab as textual-serve's page drives it: page, websocket, resize, stdin."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session, self.ws, self.screen = session, ws, b""

    @classmethod
    async def open(cls, url: str) -> Tab:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with session.get(url) as page:
            assert page.status == 200
            html = await page.text()
        ws_url = re.search(r'data-session-websocket-url="([^"]+)"', html).group(1)
        ws = await session.ws_connect(ws_url + "?width=120&height=36")
        await ws.send_json(["resize", {"width": 120, "height": 36}])
        return cls(session, ws)

    async def wait_for(self, needle: bytes, limit: float = 30) -> None:
        deadline = time.monotonic() + limit
        while needle not in self.screen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {needle!r}; last bytes: {self.screen[-400:]!r}"
            try:
                msg = await self.ws.receive(timeout=left)
            except asyncio.TimeoutError:
                continue
            if msg.type == aiohttp.WSMsgType.BINARY:
                self.screen += msg.data
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                raise AssertionError(f"the tab closed before {needle!r} appeared")

    async def type(self, text: str) -> None:
        await self.ws.send_json(["stdin", text])

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()


def test_nobody_gets_in_without_the_token(served):
    async def go() -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            for path in ("/", "/ws", "/ws/as/bo", "/static/js/textual.js", f"/?token={TOKEN}x", "/?token="):
                async with s.get(served["base"] + path, allow_redirects=False) as r:
                    assert r.status == 401, path
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await s.ws_connect(served["base"].replace("http", "ws") + "/ws")
            assert refused.value.status == 401
            # The token in the address bar is traded for a cookie, and dropped from the address.
            async with s.get(served["url"] + "&user=bo", allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"] == "/?user=bo"
                cookie = r.headers["Set-Cookie"]
                assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN in cookie
            async with s.get(served["base"] + "/?user=bo") as r:
                assert r.status == 200 and 'data-session-websocket-url="ws://' in await r.text()
            async with s.get(served["base"] + "/?user=bo%5B%2F%5D") as r:
                assert r.status == 400  # a user name is letters, digits, . - _ only
            with pytest.raises(aiohttp.WSServerHandshakeError) as cross:
                await s.ws_connect(served["base"].replace("http", "ws") + "/ws",
                                   headers={"Origin": "http://evil.example"})
            assert cross.value.status == 403

    asyncio.run(go())


def test_two_tabs_share_the_incident_live(served):
    async def go() -> None:
        bo = await Tab.open(served["url"] + "&user=bo")
        cy = await Tab.open(served["url"] + "&user=cy")
        try:
            await bo.wait_for(served["incident"].encode())
            await cy.wait_for(served["incident"].encode())
            await bo.wait_for(b"cy (web) viewing")  # presence, across two browser tabs
            await bo.type("n")
            await bo.wait_for(b"stamp note")  # the key bar follows focus: the note line is live
            await bo.type("canary-resolve-rate-29pct\r")
            await bo.wait_for(b"canary-resolve-rate-29pct")
            await cy.wait_for(b"canary-resolve-rate-29pct")  # the other tab sees it live
        finally:
            await bo.close()
            await cy.close()

    asyncio.run(go())
    out = subprocess.run([str(PROGRAM), "timeline", served["incident"], "--json"], env=served["env"],
                         capture_output=True, text=True, check=True).stdout
    assert '"author": "bo"' in out.replace('":"', '": "') and "canary-resolve-rate-29pct" in out


def test_headless_chromium_renders_the_dashboard(served, tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (.ci/run installs it; locally: apt-get install chromium)")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from browser_shot import CONNECTED_JS, shoot
    finally:
        sys.path.pop(0)
    from PIL import Image

    out = tmp_path / "browser.png"
    connected = asyncio.run(shoot(served["url"] + "&user=dee", str(out), size=(1280, 800),
                                  wait_js=CONNECTED_JS, timeout=60))
    assert connected, "the page never received the dashboard's first frame"
    image = Image.open(out).convert("RGB")
    assert image.size == (1280, 800)
    # Not a blank page or the intro card: a dashboard has many colours spread over the whole width.
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50
    top_band = image.crop((0, 0, 1280, 40)).getcolors(maxcolors=1 << 20)
    assert len(top_band) > 10  # the header line is drawn


def test_presence_between_two_terminals(terminal, tmp_path):
    env = terminal.env
    incident_id = seed(env, tmp_path)
    terminal.start("main", ["env", "INCIDENT_TUI_USER=bo", str(PROGRAM)])
    terminal.start("second", ["env", "INCIDENT_TUI_USER=cy", str(PROGRAM)])
    terminal.wait_for(incident_id)
    terminal.wait_for("cy viewing")
    terminal.wait_for("bo viewing", window="second")
    pid = int(terminal.tmux("display-message", "-p", "-t", "e2e:second", "#{pane_pid}").strip())
    os.kill(pid, signal.SIGKILL)  # no goodbye: its heartbeat goes stale
    terminal.wait_for("cy viewing", gone=True, limit=40)
