"""The diff engine behind the diagnose step: what changed between two prompt versions.

Pure Python (no textual, no tinydb). Two passes:

1. Lines. Common prefix/suffix are trimmed, then lines unique to both sides anchor the
   match (patience diff, longest increasing run of anchors), recursing into the gaps; a
   gap without unique lines falls back to difflib with autojunk off. This never produces
   dmp's "everything deleted, everything inserted" answer, and it is linear-ish where
   difflib and dmp's line mode are not (see benchmarks/diff.py for the figures).
2. Words. Inside each changed block, deleted and inserted lines are paired by word
   similarity; each pair is diffed token by token with diff-match-patch and cleaned up
   semantically, which gives the highlighted spans.

Lines keep their terminators ("\\n", "\\r\\n", or none on a last line without one), so
joining a side's lines gives that side's text back byte for byte, and a change of line
ending or of the final newline is a change like any other.
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from diff_match_patch import diff_match_patch

from .text import neutralise

__all__ = [
    "DELETE",
    "EQUAL",
    "INSERT",
    "REPLACE",
    "DiffHunk",
    "DiffResult",
    "DiffRow",
    "DiffStats",
    "Span",
    "diff_texts",
    "diff_to_json",
    "char_cells",
    "fold_rows",
    "split_eol",
    "split_lines",
    "unified_diff",
    "visible",
    "wrap_points",
]

EQUAL: Literal["equal"] = "equal"
REPLACE: Literal["replace"] = "replace"
INSERT: Literal["insert"] = "insert"
DELETE: Literal["delete"] = "delete"

RowKind = Literal["equal", "replace", "insert", "delete"]
Span = tuple[int, int]

# Word tokens: runs of word characters, runs of whitespace, single other characters.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_WORD = re.compile(r"\w+")
_WS_RUN = re.compile(r"\s+")

# Deleted/inserted lines in a block are paired by similarity only when the block is
# small enough for an O(n*m) alignment; bigger blocks pair positionally.
_MAX_ALIGN_CELLS = 2_500
# Below this word similarity two lines are different lines, not an edited one.
_MIN_PAIR_SIMILARITY = 0.3
# A gap with no unique lines and more cells than this is handed to dmp's line mode with
# a deadline instead of difflib, whose worst case on repetitive text is quadratic.
_MAX_DIFFLIB_CELLS = 4_000_000
# Safety net for the word diff of pathological (megabyte, single-line) pairs.
_WORD_DIFF_TIMEOUT_S = 0.5


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One aligned row: a line of the old text beside a line of the new one.

    `left_text`/`right_text` are the raw lines including their terminator, or None for
    the filler opposite an insertion or a deletion. Spans are (start, end) character
    offsets into the line without its terminator; they mark the changed words of a
    replaced line. `hunk` is the index of the change the row belongs to (None if equal).
    """

    kind: RowKind
    left_no: int | None
    left_text: str | None
    right_no: int | None
    right_text: str | None
    left_spans: tuple[Span, ...] = ()
    right_spans: tuple[Span, ...] = ()
    hunk: int | None = None


@dataclass(frozen=True, slots=True)
class DiffHunk:
    """A contiguous run of changed rows: rows[first_row:end_row].

    `old_start`/`new_start` are 1-based line numbers of the first line on each side (or
    of the line before, when that side has no lines in the hunk, as in unified diffs).
    """

    index: int
    first_row: int
    end_row: int
    old_start: int
    old_count: int
    new_start: int
    new_count: int


@dataclass(frozen=True, slots=True)
class DiffStats:
    """Counts for a header line: +lines, -lines, words added and removed."""

    lines_added: int = 0
    lines_removed: int = 0
    words_added: int = 0
    words_removed: int = 0

    @property
    def words_changed(self) -> int:
        return self.words_added + self.words_removed

    # Short names, as a header reads them ("+3 -1 lines").
    @property
    def added(self) -> int:
        return self.lines_added

    @property
    def removed(self) -> int:
        return self.lines_removed


@dataclass(frozen=True, slots=True)
class DiffResult:
    """Aligned rows, the hunks they form, and stats."""

    rows: list[DiffRow]
    hunks: list[DiffHunk]
    stats: DiffStats
    ignore_whitespace: bool = False

    @property
    def identical(self) -> bool:
        return not self.hunks


# --------------------------------------------------------------------------- lines


def split_lines(text: str) -> list[str]:
    """Split `text` into lines that keep their terminator; "".join() gives `text` back.

    Only "\\n" ends a line (as in `diff` and `patch`); a lone "\\r" or a form feed stays
    inside its line, unlike `str.splitlines`.
    """
    if not text:
        return []
    lines = text.split("\n")
    last = lines.pop()
    out = [line + "\n" for line in lines]
    if last:
        out.append(last)
    return out


def split_eol(line: str) -> tuple[str, str]:
    """Split a raw line into (content, terminator) with terminator "\\r\\n", "\\n" or ""."""
    if line.endswith("\r\n"):
        return line[:-2], "\r\n"
    if line.endswith("\n"):
        return line[:-1], "\n"
    return line, ""


def visible(text: str, tab: str = "    ") -> str:
    """A line content made safe and visible for a terminal.

    Escape sequences and other control or invisible characters are shown as symbols
    ("\u241b[31m" for ESC [31m), never passed through; tabs become `tab`.
    """
    if "\t" in text:
        text = text.replace("\t", tab)
    return neutralise(text, newlines=False, zero_width=True)


def char_cells(ch: str) -> int:
    """Terminal cells one character takes: 0 for a combining mark, 2 for East Asian wide."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wrap_points(text: str, width: int, cells: Callable[[str], int] = char_cells) -> list[tuple[int, int]]:
    """Where `text` wraps into parts of at most `width` cells: (char offset, cell offset)
    of each part's start, then of the end, so part k is text[p[k][0]:p[k + 1][0]].

    A break never falls inside a character: a wide character that would straddle the
    edge starts the next part (the part before it is a cell short), and a zero-width
    character stays with the one it follows. A character wider than `width` gets a part
    of its own. Empty text is one empty part. Joining the parts gives `text` back.
    """
    width = max(1, width)
    points = [(0, 0)]
    used = 0
    col = 0
    for i, ch in enumerate(text):
        w = cells(ch)
        if w and used and used + w > width:
            points.append((i, col))
            used = 0
        used += w
        col += w
    points.append((len(text), col))
    return points


def _ws_key(line: str) -> str:
    # Ignoring whitespace means: runs collapse to one space, ends are stripped (which
    # also drops the terminator), so "a  b\r\n" == "a b\n" but "ab" != "a b".
    return _WS_RUN.sub(" ", line).strip()


def _intern(a_lines: Sequence[str], b_lines: Sequence[str], ignore_ws: bool) -> tuple[list[int], list[int]]:
    ids: dict[str, int] = {}
    setdefault = ids.setdefault
    if ignore_ws:
        a = [setdefault(_ws_key(x), len(ids)) for x in a_lines]
        b = [setdefault(_ws_key(x), len(ids)) for x in b_lines]
    else:
        a = [setdefault(x, len(ids)) for x in a_lines]
        b = [setdefault(x, len(ids)) for x in b_lines]
    return a, b


def _unique_anchors(a: list[int], alo: int, ahi: int, b: list[int], blo: int, bhi: int) -> list[tuple[int, int]]:
    """Patience anchors: lines occurring once in each range, longest increasing chain."""
    count_a: dict[int, int] = {}
    pos_a: dict[int, int] = {}
    for i in range(alo, ahi):
        x = a[i]
        count_a[x] = count_a.get(x, 0) + 1
        pos_a[x] = i
    count_b: dict[int, int] = {}
    pos_b: dict[int, int] = {}
    for j in range(blo, bhi):
        x = b[j]
        if count_a.get(x) == 1:
            count_b[x] = count_b.get(x, 0) + 1
            pos_b[x] = j
    pairs = sorted((pos_a[x], pos_b[x]) for x, n in count_b.items() if n == 1)
    if not pairs:
        return []
    # Longest increasing subsequence of j over pairs sorted by i (patience sorting).
    tails: list[int] = []
    tail_idx: list[int] = []
    prev: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        p = bisect.bisect_left(tails, j)
        if p == len(tails):
            tails.append(j)
            tail_idx.append(k)
        else:
            tails[p] = j
            tail_idx[p] = k
        prev[k] = tail_idx[p - 1] if p else -1
    chain: list[tuple[int, int]] = []
    k = tail_idx[-1]
    while k != -1:
        chain.append(pairs[k])
        k = prev[k]
    chain.reverse()
    return chain


def _fallback_matches(a: list[int], alo: int, ahi: int, b: list[int], blo: int, bhi: int) -> Iterator[tuple[int, int]]:
    sub_a, sub_b = a[alo:ahi], b[blo:bhi]
    if len(sub_a) * len(sub_b) <= _MAX_DIFFLIB_CELLS:
        matcher = difflib.SequenceMatcher(None, sub_a, sub_b, autojunk=False)
        for i, j, n in matcher.get_matching_blocks():
            for k in range(n):
                yield alo + i + k, blo + j + k
        return
    # Huge and without a single unique line: dmp on ids-as-characters, with a deadline.
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 1.0
    diffs = dmp.diff_main("".join(map(chr, sub_a)), "".join(map(chr, sub_b)), False)
    i, j = alo, blo
    for op, chunk in diffs:
        n = len(chunk)
        if op == 0:
            for k in range(n):
                yield i + k, j + k
            i += n
            j += n
        elif op == -1:
            i += n
        else:
            j += n


def _matching_pairs(a: list[int], b: list[int]) -> list[tuple[int, int]]:
    """All (i, j) with a[i] matched to b[j], increasing in both i and j."""
    out: list[tuple[int, int]] = []
    # An explicit stack: adversarial inputs (reversed files) would nest deeper than
    # Python's recursion limit.
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            out.append((alo, blo))
            alo += 1
            blo += 1
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi -= 1
            bhi -= 1
            out.append((ahi, bhi))
        if alo >= ahi or blo >= bhi:
            continue
        anchors = _unique_anchors(a, alo, ahi, b, blo, bhi)
        if not anchors:
            out.extend(_fallback_matches(a, alo, ahi, b, blo, bhi))
            continue
        pi, pj = alo, blo
        for i, j in anchors:
            out.append((i, j))
            if pi < i or pj < j:
                stack.append((pi, i, pj, j))
            pi, pj = i + 1, j + 1
        if pi < ahi or pj < bhi:
            stack.append((pi, ahi, pj, bhi))
    out.sort()
    return out


def _line_opcodes(a_lines: Sequence[str], b_lines: Sequence[str], ignore_ws: bool) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes (tag, i1, i2, j1, j2) over two lists of raw lines."""
    a, b = _intern(a_lines, b_lines, ignore_ws)
    pairs = _matching_pairs(a, b)
    ops: list[tuple[str, int, int, int, int]] = []

    def change(i1: int, i2: int, j1: int, j2: int) -> None:
        if i2 > i1 or j2 > j1:
            tag = "replace" if i2 > i1 and j2 > j1 else ("delete" if i2 > i1 else "insert")
            ops.append((tag, i1, i2, j1, j2))

    i = j = k = 0
    while k < len(pairs):
        mi, mj = pairs[k]
        change(i, mi, j, mj)
        si, sj = mi, mj
        while k < len(pairs) and pairs[k] == (mi, mj):
            k += 1
            mi += 1
            mj += 1
        ops.append(("equal", si, mi, sj, mj))
        i, j = mi, mj
    change(i, len(a), j, len(b))
    return ops


# --------------------------------------------------------------------------- words


def _word_set(line: str) -> frozenset[str]:
    return frozenset(_WORD.findall(line))


def _similarity(a: frozenset[str], b: frozenset[str], a_line: str, b_line: str) -> float:
    if not a and not b:
        # Blank or punctuation-only lines: alike when equal modulo whitespace.
        return 1.0 if _ws_key(a_line) == _ws_key(b_line) else 0.5
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))


def _pair_block(old: Sequence[str], new: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Order the lines of one changed block into rows: (old idx, new idx), None = filler."""
    n, m = len(old), len(new)
    if n == 0 or m == 0:
        return [(i, None) for i in range(n)] + [(None, j) for j in range(m)]
    a_words = [_word_set(x) for x in old]
    b_words = [_word_set(x) for x in new]
    if n * m > _MAX_ALIGN_CELLS:
        rows: list[tuple[int | None, int | None]] = []
        for k in range(min(n, m)):
            if _similarity(a_words[k], b_words[k], old[k], new[k]) >= _MIN_PAIR_SIMILARITY:
                rows.append((k, k))
            else:
                rows.append((k, None))
                rows.append((None, k))
        rows.extend((i, None) for i in range(min(n, m), n))
        rows.extend((None, j) for j in range(min(n, m), m))
        return rows
    # Monotonic alignment maximising total similarity of the pairs (no gap cost), so an
    # edited line sits beside its old self even when lines were added around it.
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    sim = [[0.0] * m for _ in range(n)]
    for i in range(n):
        row_sim = sim[i]
        for j in range(m):
            s = _similarity(a_words[i], b_words[j], old[i], new[j])
            row_sim[j] = s if s >= _MIN_PAIR_SIMILARITY else -1.0
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sim[i][j] > 0:
                best = max(best, sim[i][j] + score[i + 1][j + 1])
            score[i][j] = best
    rows = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] > 0 and score[i][j] == sim[i][j] + score[i + 1][j + 1]:
            rows.append((i, j))
            i += 1
            j += 1
        elif score[i][j] == score[i + 1][j]:
            rows.append((i, None))
            i += 1
        else:
            rows.append((None, j))
            j += 1
    rows.extend((k, None) for k in range(i, n))
    rows.extend((None, k) for k in range(j, m))
    return rows


@dataclass(slots=True)
class _WordDiff:
    left: tuple[Span, ...]
    right: tuple[Span, ...]
    words_removed: int
    words_added: int


def _word_diff(old: str, new: str, ignore_ws: bool) -> _WordDiff:
    """Changed spans of two line contents (no terminators), word by word."""
    if old == new:
        return _WordDiff((), (), 0, 0)
    a_tokens = _TOKEN.findall(old)
    b_tokens = _TOKEN.findall(new)
    # Tokens become single characters so dmp's character diff runs over words.
    table: dict[str, str] = {}
    tokens: list[str] = []

    def encode(seq: list[str]) -> str:
        chars = []
        for tok in seq:
            ch = table.get(tok)
            if ch is None:
                ch = chr(len(tokens))
                table[tok] = ch
                tokens.append(tok)
            chars.append(ch)
        return "".join(chars)

    enc_a, enc_b = encode(a_tokens), encode(b_tokens)
    dmp = diff_match_patch()
    dmp.Diff_Timeout = _WORD_DIFF_TIMEOUT_S
    diffs = dmp.diff_main(enc_a, enc_b, False)
    decoded = [[op, "".join(tokens[ord(c)] for c in chunk)] for op, chunk in diffs]
    dmp.diff_cleanupSemantic(decoded)
    left: list[Span] = []
    right: list[Span] = []
    removed = added = 0
    i = j = 0
    for op, chunk in decoded:
        n = len(chunk)
        if op == 0:
            i += n
            j += n
            continue
        countable = not (ignore_ws and not chunk.strip())
        if op == -1:
            if countable:
                _add_span(left, i, i + n)
                removed += len(_WORD.findall(chunk))
            i += n
        else:
            if countable:
                _add_span(right, j, j + n)
                added += len(_WORD.findall(chunk))
            j += n
    return _WordDiff(tuple(left), tuple(right), removed, added)


def _add_span(spans: list[Span], start: int, end: int) -> None:
    if start == end:
        return
    if spans and spans[-1][1] == start:
        spans[-1] = (spans[-1][0], end)
    else:
        spans.append((start, end))


# --------------------------------------------------------------------------- public


def diff_texts(old: str, new: str, *, ignore_whitespace: bool = False) -> DiffResult:
    """Diff two texts into aligned side-by-side rows with word-level highlights.

    With `ignore_whitespace`, lines equal after collapsing whitespace runs (and dropping
    leading/trailing whitespace and the terminator) count as equal, and whitespace-only
    spans are not highlighted. Rows still carry each side's exact text.
    """
    a_lines = split_lines(old)
    b_lines = split_lines(new)
    rows: list[DiffRow] = []
    hunks: list[DiffHunk] = []
    added = removed = words_added = words_removed = 0
    for tag, i1, i2, j1, j2 in _line_opcodes(a_lines, b_lines, ignore_whitespace):
        if tag == "equal":
            for k in range(i2 - i1):
                rows.append(DiffRow(EQUAL, i1 + k + 1, a_lines[i1 + k], j1 + k + 1, b_lines[j1 + k]))
            continue
        hunk = len(hunks)
        first = len(rows)
        old_block, new_block = a_lines[i1:i2], b_lines[j1:j2]
        removed += len(old_block)
        added += len(new_block)
        for oi, ni in _pair_block(old_block, new_block):
            if oi is not None and ni is not None:
                wd = _word_diff(split_eol(old_block[oi])[0], split_eol(new_block[ni])[0], ignore_whitespace)
                words_removed += wd.words_removed
                words_added += wd.words_added
                rows.append(
                    DiffRow(
                        REPLACE,
                        i1 + oi + 1,
                        old_block[oi],
                        j1 + ni + 1,
                        new_block[ni],
                        wd.left,
                        wd.right,
                        hunk,
                    )
                )
            elif oi is not None:
                words_removed += len(_WORD.findall(old_block[oi]))
                rows.append(DiffRow(DELETE, i1 + oi + 1, old_block[oi], None, None, hunk=hunk))
            else:
                assert ni is not None
                words_added += len(_WORD.findall(new_block[ni]))
                rows.append(DiffRow(INSERT, None, None, j1 + ni + 1, new_block[ni], hunk=hunk))
        hunks.append(
            DiffHunk(
                index=hunk,
                first_row=first,
                end_row=len(rows),
                old_start=i1 + 1 if i2 > i1 else i1,
                old_count=i2 - i1,
                new_start=j1 + 1 if j2 > j1 else j1,
                new_count=j2 - j1,
            )
        )
    stats = DiffStats(added, removed, words_added, words_removed)
    return DiffResult(rows, hunks, stats, ignore_whitespace)


def _format_range(start: int, length: int) -> str:
    # Unified-diff convention (as GNU diff): an empty range names the line before it.
    beginning = start + 1
    if length == 1:
        return str(beginning)
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def _grouped(ops: list[tuple[str, int, int, int, int]], context: int) -> list[list[tuple[str, int, int, int, int]]]:
    """Group opcodes into unified hunks with `context` equal lines around changes."""
    if not ops or (len(ops) == 1 and ops[0][0] == "equal"):
        return []
    ops = list(ops)
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "equal":
        ops[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal":
        ops[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[tuple[str, int, int, int, int]]] = []
    group: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _emit(out: list[str], prefix: str, line: str) -> None:
    out.append(prefix + line)
    if not line.endswith("\n"):
        # Same marker as GNU diff, so `patch` reproduces a missing final newline.
        out.append("\n\\ No newline at end of file\n")


def unified_diff(old: str, new: str, old_label: str = "old", new_label: str = "new", context: int = 3) -> str:
    """A standard unified diff that GNU `patch` applies to `old` to give `new` exactly.

    Returns "" when the texts are equal. Lines without a final newline get the
    "\\ No newline at end of file" marker; CR characters are kept as they are.
    """
    a_lines = split_lines(old)
    b_lines = split_lines(new)
    groups = _grouped(_line_opcodes(a_lines, b_lines, False), context)
    if not groups:
        return ""
    out = [f"--- {old_label}\n", f"+++ {new_label}\n"]
    for group in groups:
        first, last = group[0], group[-1]
        out.append(
            f"@@ -{_format_range(first[1], last[2] - first[1])} +{_format_range(first[3], last[4] - first[3])} @@\n"
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in a_lines[i1:i2]:
                    _emit(out, " ", line)
                continue
            for line in a_lines[i1:i2]:
                _emit(out, "-", line)
            for line in b_lines[j1:j2]:
                _emit(out, "+", line)
    return "".join(out)


def _side_json(no: int | None, text: str | None, spans: tuple[Span, ...]) -> dict[str, Any] | None:
    if text is None:
        return None
    return {"line": no, "text": text, "spans": [list(s) for s in spans]}


def diff_to_json(result: DiffResult) -> dict[str, Any]:
    """A JSON-ready dict of a DiffResult: stats, hunks and every row with its spans."""
    return {
        "ignore_whitespace": result.ignore_whitespace,
        "stats": {
            "lines_added": result.stats.lines_added,
            "lines_removed": result.stats.lines_removed,
            "words_added": result.stats.words_added,
            "words_removed": result.stats.words_removed,
            "words_changed": result.stats.words_changed,
        },
        "hunks": [
            {
                "index": h.index,
                "first_row": h.first_row,
                "end_row": h.end_row,
                "old_start": h.old_start,
                "old_count": h.old_count,
                "new_start": h.new_start,
                "new_count": h.new_count,
            }
            for h in result.hunks
        ],
        "rows": [
            {
                "kind": r.kind,
                "hunk": r.hunk,
                "left": _side_json(r.left_no, r.left_text, r.left_spans),
                "right": _side_json(r.right_no, r.right_text, r.right_spans),
            }
            for r in result.rows
        ],
    }


def fold_rows(rows: Sequence[DiffRow], context: int = 3) -> list[tuple[int, int, bool]]:
    """Cover rows with (start, end, folded) ranges, folding unchanged runs.

    An unchanged run keeps `context` rows next to each change; the rest becomes one
    folded range. Folding a single row saves nothing, so such runs stay open. With no
    change at all, everything is one folded range.
    """
    out: list[tuple[int, int, bool]] = []
    n = len(rows)
    i = 0
    while i < n:
        if rows[i].kind != EQUAL:
            j = i
            while j < n and rows[j].kind != EQUAL:
                j += 1
            out.append((i, j, False))
            i = j
            continue
        j = i
        while j < n and rows[j].kind == EQUAL:
            j += 1
        keep_head = context if i > 0 else 0
        keep_tail = context if j < n else 0
        if (j - i) - keep_head - keep_tail <= 1:
            out.append((i, j, False))
        else:
            if keep_head:
                out.append((i, i + keep_head, False))
            out.append((i + keep_head, j - keep_tail, True))
            if keep_tail:
                out.append((j - keep_tail, j, False))
        i = j
    return out
