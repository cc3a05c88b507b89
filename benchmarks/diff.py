"""Benchmark of the diff engine and the diff pane, beside their baselines.

Measures, on generated prompt-like text (bullets, headings, repeated tags, blank lines)
with 20% of lines changed (edited, inserted or deleted):

* the full diff (lines, then word highlights) of a 100 KB and a 1 MB prompt;
* diff-match-patch's default character mode on the same 100 KB (its baseline), and
  the line-level alternatives the issue names (difflib autojunk off, dmp line mode);
* the real OpenHands v04 → v05 regression pair from tests/data/openhands-codeact, and whether the
  result is the coarse "all deleted, all inserted" one;
* the pane: the time to render one screen of a 1 MB side-by-side diff, unfolded, at
  200 scroll positions a page apart (every frame cold: nothing cached from the last)
  and 200 positions three lines apart (a mouse wheel).

Usage: ``python benchmarks/diff.py``. The last line is
``diff_100k_ms=… diff_1m_ms=… dmp_default_100k_ms=… real_pair_ms=… real_pair_coarse=no|yes``.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import gc
import random
import statistics
import time
from pathlib import Path

from diff_match_patch import diff_match_patch

from incident_tui.domain.diff import EQUAL, REPLACE, _line_opcodes, diff_texts, split_eol, split_lines

HISTORY = Path(__file__).resolve().parents[1] / "tests" / "data" / "openhands-codeact"

WORDS = (
    "the assistant must never include comments in code unless necessary to describe behaviour user "
    "file system explore path relative working directory instead should find before working on it "
    "configure git credentials use name email default unless explicitly instructed otherwise respond "
    "concise answer question tool call result output json schema field value return error retry cite "
    "sources refuse secrets tokens keys environment variables summarise conversation policy refund"
).split()


def _line(rng: random.Random) -> str:
    k = rng.random()
    if k < 0.12:
        return ""
    if k < 0.16:
        return "## " + " ".join(rng.choice(WORDS).title() for _ in range(rng.randint(1, 4)))
    if k < 0.19:
        return rng.choice(["<IMPORTANT>", "</IMPORTANT>", "{% if tools %}", "{% endif %}"])
    prefix = rng.choice(["* ", "- ", "  * ", "", "", "1. "])
    return prefix + " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 24))) + rng.choice([".", ".", ":", ""])


def make_pair(size: int, changed: float = 0.2, seed: int = 7) -> tuple[str, str]:
    """An old prompt of about `size` bytes and a new one with `changed` of its lines changed."""
    rng = random.Random(seed)
    old: list[str] = []
    total = 0
    while total < size:
        line = _line(rng)
        old.append(line)
        total += len(line) + 1
    new: list[str] = []
    for line in old:
        k = rng.random()
        if k < changed * 0.6 and line:
            words = line.split(" ")
            i = rng.randrange(len(words))
            words[i] = rng.choice(WORDS)
            if rng.random() < 0.5:
                words.insert(i, rng.choice(WORDS))
            new.append(" ".join(words))
        elif k < changed * 0.8:
            new.extend([line, _line(rng)])
        elif k < changed:
            continue
        else:
            new.append(line)
    return "\n".join(old) + "\n", "\n".join(new) + "\n"


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time in ms over `repeat` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def lcs_lines(a: list[str], b: list[str]) -> int:
    """Exact longest common subsequence of lines (quadratic: small inputs only)."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def is_coarse(old: str, new: str, result) -> bool:
    """Coarse: fewer unchanged lines than the true LCS allows, or an edited line whose
    highlight covers all of it on both sides (nothing kept within the line)."""
    equal = sum(1 for r in result.rows if r.kind == EQUAL)
    if equal < lcs_lines(split_lines(old), split_lines(new)):
        return True
    for row in result.rows:
        if row.kind != REPLACE:
            continue
        left, right = split_eol(row.left_text)[0], split_eol(row.right_text)[0]
        if sum(b - a for a, b in row.left_spans) >= len(left) and sum(b - a for a, b in row.right_spans) >= len(right):
            return True
    return False


def dmp_chars(old: str, new: str) -> list:
    return diff_match_patch().diff_main(old, new)  # default: 1 s timeout, char mode


def dmp_lines(old: str, new: str) -> list:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0
    a, b, table = dmp.diff_linesToChars(old, new)
    diffs = dmp.diff_main(a, b, False)
    dmp.diff_charsToLines(diffs, table)
    return diffs


def dmp_kept_fraction(old: str, diffs: list) -> float:
    return sum(len(text) for op, text in diffs if op == 0) / max(1, len(old))


async def pane_frames(old: str, new: str, width: int, height: int, frames: int) -> dict[str, list[tuple[float, bool]]]:
    """Frame times (ms, and whether a full garbage collection ran inside the frame) of the
    diff body, rendering every visible line, two ways:
    "page": each frame a page further (nothing cached: the worst case);
    "wheel": three lines a frame (a mouse wheel), the cache doing its job."""
    from textual.app import App

    from incident_tui.tui.widgets.diff_view import DiffView, measure_rows

    result = diff_texts(old, new)
    widths = measure_rows(result)

    class Host(App):
        def compose(self):
            yield DiffView()

    full_collections = [0]

    def count_full(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            full_collections[0] += 1

    gc.callbacks.append(count_full)
    app = Host()
    times: dict[str, list[tuple[float, bool]]] = {"page": [], "wheel": []}
    async with app.run_test(size=(width, height)) as pilot:
        view = app.query_one(DiffView)
        view.folded = False
        view.layout_mode = "split"
        view.set_diff(result, widths)
        await pilot.pause()
        page = view.size.height
        last = view.line_count - page
        for mode, step in (("page", max(page, last // frames)), ("wheel", 3)):
            for i in range(frames):
                y = min(last, i * step)
                view.scroll_to(y=y, animate=False)
                before = full_collections[0]
                start = time.perf_counter()
                strips = [view.render_line(row) for row in range(page)]
                times[mode].append(((time.perf_counter() - start) * 1000, full_collections[0] != before))
                assert len(strips) == page and int(view.scroll_offset.y) == y
    gc.callbacks.remove(count_full)
    return times


def describe(frames: list[tuple[float, bool]]) -> str:
    ordered = sorted(t for t, _ in frames)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    over = [(t, full_gc) for t, full_gc in frames if t > 16]
    with_gc = sum(1 for _, full_gc in over if full_gc)
    clean = sorted(t for t, full_gc in frames if not full_gc)
    return (
        f"p50 {statistics.median(ordered):.2f} ms · p95 {p95:.2f} ms · max {ordered[-1]:.2f} ms · "
        f"{len(over)}/{len(ordered)} over 16 ms ({with_gc} of them inside a full gc; max without one {clean[-1]:.2f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per 100 KB figure (median)")
    parser.add_argument("--frames", type=int, default=200, help="pane frames to time")
    args = parser.parse_args()

    old100, new100 = make_pair(100_000)
    old1m, new1m = make_pair(1_000_000, seed=11)
    print(f"inputs: 100k={len(old100)}B/{len(split_lines(old100))} lines, 1m={len(old1m)}B/{len(split_lines(old1m))} lines, 20% of lines changed")

    diff_100k, result100 = timed(lambda: diff_texts(old100, new100), args.repeat)
    diff_1m, result1m = timed(lambda: diff_texts(old1m, new1m), 3)
    print(f"ours (lines + words): 100k {diff_100k:.1f} ms ({len(result100.hunks)} changes) · 1m {diff_1m:.1f} ms ({len(result1m.hunks)} changes)")

    # Line-level candidates, alone (no word pass), on the same inputs.
    for label, old, new, repeat in (("100k", old100, new100, args.repeat), ("1m", old1m, new1m, 1)):
        a, b = split_lines(old), split_lines(new)
        ours, ops = timed(lambda: _line_opcodes(a, b, False), repeat)
        dl, matcher = timed(lambda: difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes(), repeat)
        dm, _ = timed(lambda: dmp_lines(old, new), 1)
        kept_ours = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag == "equal")
        kept_difflib = sum(i2 - i1 for tag, i1, i2, _, _ in matcher if tag == "equal")
        print(
            f"line pass {label}: patience {ours:.1f} ms ({kept_ours} kept) · difflib autojunk=False {dl:.1f} ms "
            f"({kept_difflib} kept) · dmp line mode {dm:.1f} ms"
        )

    dmp_100k, dmp_diffs = timed(lambda: dmp_chars(old100, new100), 3)
    print(f"dmp default char mode 100k: {dmp_100k:.1f} ms, {dmp_kept_fraction(old100, dmp_diffs):.0%} of old text kept as equal")

    if (HISTORY / "v04.j2").is_file():
        v04 = (HISTORY / "v04.j2").read_bytes().decode("utf-8")
        v05 = (HISTORY / "v05.j2").read_bytes().decode("utf-8")
        real_ms, real = timed(lambda: diff_texts(v04, v05), 51)
        coarse = "yes" if is_coarse(v04, v05, real) else "no"
        real_ms_text = f"{real_ms:.2f}"
        dmp_real = dmp_chars(v04, v05)
        print(
            f"real v04→v05: {len(real.hunks)} changes, +{real.stats.lines_added} −{real.stats.lines_removed} lines, "
            f"{real.stats.words_changed} words; dmp char mode keeps {dmp_kept_fraction(v04, dmp_real):.0%} as equal"
        )
    else:
        real_ms_text, coarse = "na", "na"
        print(f"real pair skipped: {HISTORY} not found")

    frames = asyncio.run(pane_frames(old1m, new1m, 160, 50, args.frames))
    print(f"pane 1m side by side 160x50 unfolded, page jumps (cold): {describe(frames['page'])}")
    print(f"pane 1m side by side 160x50 unfolded, wheel 3 lines/frame: {describe(frames['wheel'])}")

    print(
        f"diff_100k_ms={diff_100k:.1f} diff_1m_ms={diff_1m:.1f} dmp_default_100k_ms={dmp_100k:.1f} "
        f"real_pair_ms={real_ms_text} real_pair_coarse={coarse}"
    )


if __name__ == "__main__":
    main()
