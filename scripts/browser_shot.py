"""Open a URL in headless Chromium, wait for a condition in the page, and save a PNG screenshot.

Speaks the DevTools protocol over a websocket (aiohttp, already a dependency of team mode), so
no browser-automation package is needed. Used by `make screenshots` (screenshots/browser.png)
and by the team-mode browser test.

    python scripts/browser_shot.py URL OUT.png [--size 1280x800] [--wait-text TEXT] [--timeout 30]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import aiohttp

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        self.profile = tempfile.mkdtemp(prefix="incident-tui-chromium-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Browser:
        exe = find_chromium()
        if exe is None:
            raise RuntimeError("chromium is not installed")
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={self.size[0]},{self.size[1]}",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as fh:
                    first = fh.readline().strip()
                if first:
                    self.port = int(first)
                    return self
            time.sleep(0.1)
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def page_ws(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list") as r:
            targets = json.load(r)
        return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0

    async def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        my_id = self.next_id
        await self.ws.send_json({"id": my_id, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def evaluate(self, expression: str) -> object:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")


async def shoot(url: str, out: str, *, size: tuple[int, int], wait_js: str | None, timeout: float,
                settle: float = 1.5) -> bool:
    """Load ``url``, wait until ``wait_js`` is truthy (or the timeout), save the PNG; True if the wait held."""
    with Browser(size) as browser:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(browser.page_ws(), max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1],
                                deviceScaleFactor=1, mobile=False)
                await page.call("Page.enable")
                await page.call("Page.navigate", url=url)
                ok = wait_js is None
                deadline = time.monotonic() + timeout
                while wait_js is not None and time.monotonic() < deadline:
                    try:
                        if await page.evaluate(wait_js):
                            ok = True
                            break
                    except RuntimeError:
                        pass
                    await asyncio.sleep(0.25)
                await asyncio.sleep(settle)  # let the terminal paint its first full frame
                shot = await page.call("Page.captureScreenshot", format="png")
                with open(out, "wb") as fh:
                    fh.write(base64.b64decode(shot["data"]))
                return ok


# textual-serve marks the body "-first-byte" once the app has drawn into the terminal.
CONNECTED_JS = "document.body.classList.contains('-first-byte')"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    ok = asyncio.run(shoot(args.url, args.out, size=(w, h), wait_js=CONNECTED_JS, timeout=args.timeout))
    if not ok:
        print("error: the page never connected its terminal", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
