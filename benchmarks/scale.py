"""Scale: what a long history costs the 2 a.m. path, each figure beside its baseline, in one run.

* ``seed_<N>_s``: ``incident-tui demo --incidents N --no-open`` in a fresh process (N = 1k, 5k).
* ``note_ms`` against ``bare_imports_ms``: a fresh ``incident-tui note`` process on the N-incident
  database against a fresh ``python -c "import orjson, tinydb, click"`` (wall time, process start to exit).
* ``data_frame_s`` against ``bare_first_frame_s``: the dashboard's first frame with the incidents listed
  (fresh process, imports included) against a bare Textual app's first frame (see benchmarks/ui.py).
* ``open_150k_s``, ``open_500k_s``: open the store and list the incidents, in a fresh process, on a
  database of that many timeline events (benchmarks/store.py's data, compacted); peak and steady RSS
  of that process at each size (``peak_rss_150k_mb``, ``steady_rss_150k_mb``, ``..._500k_mb``).
* ``compaction_stall_ms_p100``: the longest a durable append in one process takes while another
  process compacts the 150k database three times, over ``--runs`` such rounds;
  ``compaction_stall_ms_median`` is the median of the rounds' longest appends.

Child processes cache bytecode in a temp dir (as an installed package has its .pyc files), and
the machine may be noisy: every figure is a median of ``--runs`` fresh processes, ours and the
baseline interleaved, and ratios compare figures of the same run.

Run: python benchmarks/scale.py [--incidents 1000,5000] [--events 150000,500000] [--runs 5] [--compaction-only]
(``--compaction-only``: build each store size and print only its compaction stall figures.)
One summary line per incident count, last:
``incidents=… seed_s=… note_ms=… bare_imports_ms=… note_ratio=… data_frame_s=… bare_first_frame_s=…
frame_ratio=… open_150k_s=… peak_rss_150k_mb=… steady_rss_150k_mb=… open_500k_s=… peak_rss_500k_mb=…
steady_rss_500k_mb=… compaction_stall_ms_p100=… compaction_stall_ms_median=…``
(the issue's ``seed_5k_s`` is ``seed_s`` on the 5,000 line).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ui import CHILD_BARE, CHILD_OURS, first_frame  # noqa: E402

CLI = [sys.executable, "-m", "incident_tui"]

OPEN_PROBE = r"""
import gc, resource, sys, time
t0 = time.perf_counter()
from incident_tui.store.repository import Repository
from incident_tui.store.storage import open_db
t1 = time.perf_counter()
db = open_db(sys.argv[1])
n = len(Repository(db).list_incidents())
t2 = time.perf_counter()
gc.collect()
rss = hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        rss = int(line.split()[1])
    elif line.startswith("VmHWM:"):
        hwm = int(line.split()[1])
print(f"{t2 - t1:.4f} {n} {hwm / 1024:.1f} {rss / 1024:.1f}")
"""

COMPACTOR = r"""
import sys, time
from incident_tui.store.storage import open_db
db = open_db(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
for _ in range(int(sys.argv[2])):
    db.storage.compact()
    time.sleep(0.2)
print("done", flush=True)
"""


def wall(cmd: list[str], **kw) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - start


def seed(path: Path, incidents: int) -> float:
    return wall([*CLI, "--db", str(path), "demo", "--incidents", str(incidents), "--no-open"])


def note_vs_bare(path: Path, runs: int) -> tuple[float, float]:
    out = subprocess.run([*CLI, "--db", str(path), "list", "--json"], check=True, capture_output=True, text=True)
    incident_id = json.loads(out.stdout)[0]["id"]
    note = [*CLI, "--db", str(path), "note", incident_id, "benchmark note"]
    bare = [sys.executable, "-c", "import orjson, tinydb, click"]
    wall(note), wall(bare)  # warm the file cache
    ours, base = [], []
    for _ in range(runs):
        ours.append(wall(note))
        base.append(wall(bare))
    return statistics.median(ours) * 1000, statistics.median(base) * 1000


def frames(path: Path, tmp: Path, runs: int) -> tuple[float, float, float]:
    """Medians of (the data frame, the bare app's first frame, our first paint before the data)."""
    ours_py, bare_py = tmp / "ours.py", tmp / "bare.py"
    ours_py.write_text(CHILD_OURS)
    bare_py.write_text(CHILD_BARE)
    first_frame(ours_py, str(path)), first_frame(bare_py)
    data, bare, paint = [], [], []
    for _ in range(runs):
        first, with_data = first_frame(ours_py, str(path))
        data.append(with_data)
        paint.append(first)
        bare.append(first_frame(bare_py)[0])
    return statistics.median(data), statistics.median(bare), statistics.median(paint)


def build_store(path: Path, events: int) -> None:
    from store import build_data

    from incident_tui.store.storage import open_db, transaction

    data = build_data(events)
    db = open_db(path)
    with transaction(db):
        for name, docs in data.items():
            db.table(name).insert_multiple(docs)
    db.storage.compact()
    db.close()


def open_probe(path: Path, runs: int) -> tuple[float, float, float]:
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", OPEN_PROBE, str(path)], check=True, capture_output=True,
                             text=True).stdout.split()
        results.append((float(out[0]), float(out[2]), float(out[3])))
    return tuple(statistics.median(r[i] for r in results) for i in range(3))  # type: ignore[return-value]


def compaction_stall(path: Path, compactions: int = 3) -> float:
    """Longest append of this process while another process compacts ``compactions`` times."""
    from datetime import datetime, timezone

    from incident_tui.store.storage import open_db

    db = open_db(path)
    events = db.table("events")
    events.insert({"incident_id": "bench", "kind": "note", "text": "warm", "at": "2027-01-01T00:00:00+00:00"})
    child = subprocess.Popen([sys.executable, "-c", COMPACTOR, str(path), str(compactions)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    child.stdin.write("go\n")
    child.stdin.flush()
    os.set_blocking(child.stdout.fileno(), False)
    times = []
    at = datetime(2027, 1, 1, tzinfo=timezone.utc).isoformat()
    while child.poll() is None:
        start = time.perf_counter()
        events.insert({"incident_id": "bench", "kind": "note", "text": "x", "at": at})
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.005)
    child.wait()
    db.close()
    return max(times)


def compaction_stalls(path: Path, runs: int) -> tuple[float, float]:
    """The median and the longest of ``runs`` rounds' longest appends (a round adds a few hundred events)."""
    stalls = []
    for i in range(runs):
        stalls.append(compaction_stall(path))
        print(f"  round {i + 1}: longest append {stalls[-1]:.1f} ms", flush=True)
    return statistics.median(stalls), max(stalls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", default="1000,5000", help="comma-separated incident counts")
    parser.add_argument("--events", default="150000,500000", help="store sizes to open (events); '' skips")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compaction-only", action="store_true",
                        help="only the compaction stall, on the first store size")
    args = parser.parse_args()
    counts = [int(n) for n in args.incidents.split(",") if n]
    sizes = [int(n) for n in args.events.split(",") if n]
    if args.compaction_only:
        counts = []

    store_fields: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # Fresh processes as a user runs them: with compiled bytecode cached (kept out of the tree),
        # not recompiling every module on every start.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        for events in sizes:
            path = tmp / f"store-{events}.json"
            start = time.perf_counter()
            build_store(path, events)
            built = time.perf_counter() - start
            label = f"{events // 1000}k"
            if args.compaction_only:
                median, stall = compaction_stalls(path, args.runs)
                print(f"store {label}: longest append while another process compacts {stall:.1f} ms "
                      f"(median of {args.runs} rounds {median:.1f} ms)", flush=True)
                print(f"events={events} compaction_stall_ms_p100={stall:.1f} compaction_stall_ms_median={median:.1f}")
                for leftover in tmp.glob(path.name + "*"):
                    leftover.unlink()
                continue
            open_s, peak, steady = open_probe(path, args.runs)
            print(f"store {label}: built in {built:.1f}s, snapshot {path.stat().st_size / 1e6:.1f} MB, "
                  f"open + list {open_s:.3f}s, peak RSS {peak:.0f} MB, steady {steady:.0f} MB", flush=True)
            store_fields[f"open_{label}_s"] = f"{open_s:.3f}"
            store_fields[f"peak_rss_{label}_mb"] = f"{peak:.0f}"
            store_fields[f"steady_rss_{label}_mb"] = f"{steady:.0f}"
            if events == sizes[0]:
                median, stall = compaction_stalls(path, args.runs)
                print(f"store {label}: longest append while another process compacts {stall:.1f} ms "
                      f"(median of {args.runs} rounds {median:.1f} ms)", flush=True)
                store_fields["compaction_stall_ms_p100"] = f"{stall:.1f}"
                store_fields["compaction_stall_ms_median"] = f"{median:.1f}"
            for leftover in tmp.glob(path.name + "*"):
                leftover.unlink()

        lines = []
        for count in counts:
            path = tmp / f"demo-{count}.json"
            seed_s = seed(path, count)
            print(f"{count} incidents: seeded in {seed_s:.1f}s, {path.stat().st_size / 1e6:.1f} MB snapshot", flush=True)
            note_ms, bare_ms = note_vs_bare(path, args.runs)
            data_s, bare_s, paint_s = frames(path, tmp, args.runs)
            print(f"{count} incidents: first paint {paint_s:.3f}s, data frame {data_s:.3f}s, bare first frame "
                  f"{bare_s:.3f}s (paint {paint_s / bare_s:.2f}x, data {data_s / bare_s:.2f}x)", flush=True)
            lines.append(
                f"incidents={count} seed_s={seed_s:.1f} note_ms={note_ms:.0f} bare_imports_ms={bare_ms:.0f} "
                f"note_ratio={note_ms / bare_ms:.2f} data_frame_s={data_s:.3f} bare_first_frame_s={bare_s:.3f} "
                f"frame_ratio={data_s / bare_s:.2f} " + " ".join(f"{k}={v}" for k, v in store_fields.items())
            )
            print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
