"""Benchmark of the incident-tui store against stock TinyDB.

Builds a realistic database (about 50 timeline events per incident, prompt
versions of a few KB, samples, postmortems), then measures:

* durable appends of one timeline event through the TinyDB API
  (``db.table("events").insert``; each one fsynced before it returns);
* the same append with stock TinyDB ``JSONStorage`` on an equivalent file
  (a few inserts: each rewrites the whole file; stock does not even fsync);
* the time to open the database (snapshot + journal replay).

Usage: ``python benchmarks/store.py --events 150000``.  The last line is
``append_ms_median=… append_ms_p99=… stock_append_ms_median=… speedup=… open_s=…``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from tinydb import TinyDB

from incident_tui.store.storage import open_db, transaction

EVENTS_PER_INCIDENT = 50
PROMPTS = 12
VERSIONS_PER_PROMPT = 8

WORDS = (
    "prompt regression rollback latency tokens judge eval score refusal tool call agent "
    "context window system instruction user reported hallucination citation format json "
    "schema drift production canary label moved version diff contain mitigate owner "
    "customer impact detection alert grafana threshold sample failure retry timeout model "
    "temperature guardrail policy escalate pager runbook postmortem action item follow up"
).split()
AUTHORS = ["ana", "bo", "chen", "dara", "eli", "fatima", "gus"]
KINDS = ["note", "status", "action", "alert", "label_move", "sample", "decision"]


def _text(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    n = 0
    while n < chars:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)[:chars]


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def make_event(rng: random.Random, incident_id: str, at: datetime) -> dict:
    """One timeline event shaped like the app's (text ~120 chars, small meta)."""
    return {
        "incident_id": incident_id,
        "at": _iso(at),
        "kind": rng.choice(KINDS),
        "text": _text(rng, 120),
        "author": rng.choice(AUTHORS),
        "starred": rng.random() < 0.05,
        "meta": {"source": rng.choice(["cli", "tui", "hook"]), "seq": rng.randint(1, 10_000)},
    }


def build_data(n_events: int, seed: int = 7) -> dict[str, list[dict]]:
    """Documents per table for a database with ``n_events`` timeline events."""
    rng = random.Random(seed)
    n_incidents = max(1, n_events // EVENTS_PER_INCIDENT)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    incidents, events, samples, postmortems = [], [], [], []
    for i in range(n_incidents):
        declared = start + timedelta(hours=7 * i)
        iid = f"INC-{declared:%Y%m%d}-{i % 1000 + 1:03d}"
        incidents.append(
            {
                "id": iid,
                "title": _text(rng, 60),
                "severity": rng.choice(["SEV1", "SEV2", "SEV3"]),
                "status": rng.choice(["triage", "contain", "diagnose", "remediate", "postmortem", "closed"]),
                "prompt": f"prompt-{i % PROMPTS}",
                "commander": rng.choice(AUTHORS),
                "impact_start": _iso(declared - timedelta(minutes=40)),
                "detected_at": _iso(declared - timedelta(minutes=5)),
                "declared_at": _iso(declared),
                "contained_at": _iso(declared + timedelta(minutes=30)),
                "resolved_at": None,
                "summary": _text(rng, 200),
                "tags": rng.sample(WORDS, 3),
            }
        )
        per = EVENTS_PER_INCIDENT if i < n_incidents - 1 else n_events - EVENTS_PER_INCIDENT * (n_incidents - 1)
        for k in range(per):
            events.append(make_event(rng, iid, declared + timedelta(minutes=2 * k)))
        for _ in range(3):
            samples.append(
                {"incident_id": iid, "input": _text(rng, 400), "output": _text(rng, 400), "verdict": "fail"}
            )
        if i % 3 == 0:
            postmortems.append(
                {
                    "incident_id": iid,
                    "summary": _text(rng, 600),
                    "impact": _text(rng, 300),
                    "root_cause": _text(rng, 500),
                    "timeline_summary": _text(rng, 400),
                    "action_items": [
                        {"text": _text(rng, 80), "owner": rng.choice(AUTHORS), "done": False} for _ in range(4)
                    ],
                }
            )
    prompts, versions, moves = [], [], []
    for p in range(PROMPTS):
        prompts.append({"name": f"prompt-{p}", "description": _text(rng, 100), "owner": rng.choice(AUTHORS)})
        for v in range(1, VERSIONS_PER_PROMPT + 1):
            versions.append(
                {
                    "prompt": f"prompt-{p}",
                    "version": v,
                    "text": _text(rng, rng.randint(2000, 6000)),
                    "created_at": _iso(start + timedelta(days=v)),
                    "author": rng.choice(AUTHORS),
                }
            )
        for v in (VERSIONS_PER_PROMPT - 1, VERSIONS_PER_PROMPT, VERSIONS_PER_PROMPT - 1):
            moves.append(
                {"prompt": f"prompt-{p}", "label": "production", "version": v, "at": _iso(start), "by": "ana"}
            )
    return {
        "incidents": incidents,
        "events": events,
        "prompts": prompts,
        "prompt_versions": versions,
        "label_moves": moves,
        "postmortems": postmortems,
        "samples": samples,
    }


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints figures and the summary line last."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=50_000, help="timeline events in the database")
    ap.add_argument("--appends", type=int, default=1000, help="durable appends to time")
    ap.add_argument("--stock-appends", type=int, default=5, help="stock TinyDB inserts to time")
    ap.add_argument("--dir", help="directory for the files (default: a temp dir, removed afterwards)")
    args = ap.parse_args(argv)

    workdir = args.dir or tempfile.mkdtemp(prefix="incident-tui-bench-")
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "store-bench.json")
    stock_path = os.path.join(workdir, "stock-bench.json")
    for p in (path, path + ".journal", path + ".lock", stock_path):
        if os.path.exists(p):
            os.unlink(p)
    try:
        rng = random.Random(11)
        t0 = time.perf_counter()
        data = build_data(args.events)
        t1 = time.perf_counter()
        db = open_db(path)
        # One transaction = one journal record; then a compaction writes the
        # snapshot, so the measured DB looks like a long-lived one.
        with transaction(db):
            for name, docs in data.items():
                db.table(name).insert_multiple(docs)
        db.storage.compact()
        db.close()
        t2 = time.perf_counter()
        size = os.path.getsize(path)
        print(f"dir={workdir}")
        print(
            f"built: events={args.events} incidents={len(data['incidents'])} "
            f"prompt_versions={len(data['prompt_versions'])} snapshot={size / 1e6:.1f}MB "
            f"(generate {t1 - t0:.2f}s, write {t2 - t1:.2f}s)"
        )
        incident_ids = [d["id"] for d in data["incidents"]]
        del data

        # Durable appends through the public TinyDB API.
        db = open_db(path)
        events = db.table("events")
        at = datetime(2027, 1, 1, tzinfo=timezone.utc)
        times = []
        for i in range(args.appends):
            doc = make_event(rng, rng.choice(incident_ids), at + timedelta(seconds=i))
            s = time.perf_counter()
            events.insert(doc)
            times.append((time.perf_counter() - s) * 1e3)
        assert len(events) == args.events + args.appends
        db.close()
        # Give the memory back so the open probes below don't compete with it.
        del db, events
        gc.collect()
        med, p99 = statistics.median(times), _pct(times, 0.99)
        print("first appends (ms; the first one also computes the max doc id of the table):", " ".join(f"{t:.2f}" for t in times[:12]))
        print(f"append (fsynced): n={len(times)} median={med:.3f}ms p99={p99:.3f}ms max={max(times):.3f}ms")

        # Open time: snapshot + journal holding the appends above, each in a
        # fresh process (what every CLI invocation pays), median of 3.
        probe = (
            "import sys, time\n"
            "from incident_tui.store.storage import open_db\n"
            "s = time.perf_counter(); db = open_db(sys.argv[1]); e = time.perf_counter() - s\n"
            "print(e, len(db.table('events')))\n"
        )
        opens = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", probe, path], check=True, capture_output=True, text=True
            ).stdout.split()
            assert int(out[1]) == args.events + args.appends, out
            opens.append(float(out[0]))
        open_s = statistics.median(opens)
        print(f"open (fresh process): median of 3 = {open_s:.3f}s ({', '.join(f'{o:.3f}' for o in opens)}); "
              f"journal={os.path.getsize(path + '.journal') / 1e3:.0f}kB")

        # Stock TinyDB on an equivalent file (the snapshot is TinyDB JSON).
        shutil.copyfile(path, stock_path)
        stock = TinyDB(stock_path)
        stock_events = stock.table("events")
        stimes = []
        for i in range(args.stock_appends):
            doc = make_event(rng, rng.choice(incident_ids), at + timedelta(seconds=i))
            s = time.perf_counter()
            stock_events.insert(doc)
            stimes.append((time.perf_counter() - s) * 1e3)
        stock.close()
        smed = statistics.median(stimes)
        print(f"stock TinyDB JSONStorage append (not fsynced): n={len(stimes)} median={smed:.1f}ms")
        print(
            f"append_ms_median={med:.3f} append_ms_p99={p99:.3f} stock_append_ms_median={smed:.1f} "
            f"speedup={smed / med:.0f} open_s={open_s:.3f}"
        )
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
