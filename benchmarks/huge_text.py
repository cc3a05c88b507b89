"""A database with one huge note (written past the size limits, as an older version allowed): time to
the dashboard's first frame with the timeline, and per key on that incident, beside the same
database without the note.

Run: python benchmarks/huge_text.py [--mb 5] [--keys 10]
The last line is: huge_first_s=… plain_first_s=… huge_key_p50_s=… plain_key_p50_s=… view_all_s=…
Wall-clock through Textual's Pilot (its own waits included): compare the pair, not the absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from incident_tui.config import Config
from incident_tui.demo import seed_demo
from incident_tui.domain.models import EventKind, TimelineEvent
from incident_tui.store.repository import Repository
from incident_tui.store.storage import open_db

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))
INCIDENT = "INC-20261125-001"  # the demo's first incident


async def measure(db, keys: int) -> tuple[float, float, float]:
    from incident_tui.tui.app import IncidentApp

    start = time.perf_counter()
    app = IncidentApp(db=db, config=Config(user="ana"), clock=lambda: NOW, poll_interval=0, selection_delay=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        first = time.perf_counter() - start
        times = []
        for n in range(keys):  # away from the incident and back: each return repaints its timeline
            start = time.perf_counter()
            await pilot.press("down" if n % 2 == 0 else "up")
            await pilot.pause()
            times.append(time.perf_counter() - start)
        await pilot.press("2", "end")
        start = time.perf_counter()
        await pilot.press("up", "enter")
        await pilot.pause()
        view = time.perf_counter() - start
    return first, statistics.median(times), view


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--keys", type=int, default=10)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("plain", "huge"):
            db = open_db(Path(tmp) / f"{name}.json")
            seed_demo(db, now=NOW)
            if name == "huge":
                line = "word " * 19 + "\n"
                text = line * int(args.mb * 1_000_000 / len(line))
                Repository(db).add_event(TimelineEvent(INCIDENT, NOW, EventKind.NOTE, text, author="ana"))
            results[name] = asyncio.run(measure(db, args.keys))
            db.close()
            print(f"{name}: first frame {results[name][0]:.2f} s, key p50 {results[name][1]:.3f} s", file=sys.stderr)
    (hf, hk, hv), (pf, pk, _pv) = results["huge"], results["plain"]
    print(f"huge_first_s={hf:.2f} plain_first_s={pf:.2f} huge_key_p50_s={hk:.3f} plain_key_p50_s={pk:.3f} "
          f"view_all_s={hv:.2f}")


if __name__ == "__main__":
    main()
