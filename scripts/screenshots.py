"""Regenerate the SVG screenshots in screenshots/ from the demo data at a fixed time and size.

Run: make screenshots   (or: python scripts/screenshots.py screenshots)
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from incident_tui.config import Config
from incident_tui.demo import seed_demo
from incident_tui.store.storage import open_db
from incident_tui.tui.app import IncidentApp

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))

# name, size, keys pressed before the shot
SHOTS: list[tuple[str, tuple[int, int], list[str]]] = [
    ("incidents", (120, 36), []),
    ("incidents-80x24", (80, 24), []),
    ("timeline", (120, 36), ["2"]),
    ("diff", (120, 36), ["3", "z"]),
    ("postmortem", (120, 36), ["4"]),
    ("metrics", (120, 36), ["5"]),
    ("declare-modal", (120, 36), ["d"]),
    ("help", (120, 36), ["question_mark"]),
]


async def shoot(db, out: Path, name: str, size: tuple[int, int], keys: list[str]) -> Path:
    app = IncidentApp(db=db, config=Config(user="ana"), clock=lambda: NOW, poll_interval=0, selection_delay=0)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.pause()
        app.save_screenshot(f"{name}.svg", str(out))
    return out / f"{name}.svg"


def browser_shot(db_path: Path, out: Path) -> None:
    """screenshots/browser.png: the demo served by `incident-tui serve`, opened in headless Chromium."""
    sys.path.insert(0, str(Path(__file__).parent))
    from browser_shot import CONNECTED_JS, find_chromium, shoot as shoot_page

    if find_chromium() is None:
        print("skipped browser.png: chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "INCIDENT_TUI_SERVE_TOKEN": secrets.token_urlsafe(16), "INCIDENT_TUI_CONFIG": os.devnull}
    proc = subprocess.Popen([sys.executable, "-m", "incident_tui", "--db", str(db_path), "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        url = proc.stdout.readline().strip()
        if not asyncio.run(shoot_page(url + "&user=ana", str(out / "browser.png"), size=(1400, 860),
                                      wait_js=CONNECTED_JS, timeout=60)):
            raise SystemExit("browser.png: the page never showed the dashboard")
        print(out / "browser.png")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "demo.json")
        seed_demo(db, now=NOW)
        for name, size, keys in SHOTS:
            path = asyncio.run(shoot(db, out, name, size, keys))
            print(path)
        db.close()
        browser_shot(Path(tmp) / "demo.json", out)


if __name__ == "__main__":
    main()
