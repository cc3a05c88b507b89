"""Property tests: rows reproduce both texts exactly; unified output patches old into new."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_tui.domain.diff import (
    EQUAL,
    diff_texts,
    split_eol,
    split_lines,
    unified_diff,
)

# Line contents that stress the engine: tabs, CRs, emoji (incl. ZWJ sequences),
# combining marks, escapes, very long lines, and plain words that repeat across lines.
FRAGMENTS = st.sampled_from(
    ["the", "assistant", "MUST", "not", " ", "  ", "\t", "\r", "😀", "👩‍💻", "é", "e\u0301", "{{ x }}", "\x1b[31m", ",", "-"]
)
CONTENT = st.one_of(
    st.lists(FRAGMENTS, max_size=12).map(" ".join),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=30),
    st.builds(lambda word, n: (word + " ") * n, st.sampled_from(["long", "line", "🙂"]), st.integers(200, 2000)),
)
ENDING = st.sampled_from(["\n", "\n", "\n", "\r\n"])
LINE = st.builds(lambda c, e: c + e, CONTENT, ENDING)


@st.composite
def text_pairs(draw):
    old_lines = draw(st.lists(LINE, max_size=25))
    new_lines: list[str] = []
    for line in old_lines:
        op = draw(st.sampled_from(["keep", "keep", "keep", "drop", "edit", "insert", "eol"]))
        if op == "keep":
            new_lines.append(line)
        elif op == "edit":
            content, eol = split_eol(line)
            new_lines.append(content + draw(CONTENT) + eol)
        elif op == "insert":
            new_lines.extend([line, draw(LINE)])
        elif op == "eol":
            content, eol = split_eol(line)
            new_lines.append(content + ("\r\n" if eol == "\n" else "\n"))
    new_lines.extend(draw(st.lists(LINE, max_size=3)))
    old = "".join(old_lines)
    new = "".join(new_lines)
    # Either side may lose its final newline.
    if draw(st.booleans()) and old.endswith("\n"):
        old = old[:-1]
    if draw(st.booleans()) and new.endswith("\n"):
        new = new[:-1]
    return old, new


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text_pairs(), st.booleans())
def test_rows_reproduce_both_texts(pair, ignore_whitespace):
    old, new = pair
    result = diff_texts(old, new, ignore_whitespace=ignore_whitespace)
    assert "".join(r.left_text for r in result.rows if r.left_text is not None) == old
    assert "".join(r.right_text for r in result.rows if r.right_text is not None) == new
    left_numbers = [r.left_no for r in result.rows if r.left_text is not None]
    right_numbers = [r.right_no for r in result.rows if r.right_text is not None]
    assert left_numbers == list(range(1, len(split_lines(old)) + 1))
    assert right_numbers == list(range(1, len(split_lines(new)) + 1))
    for row in result.rows:
        assert (row.left_text is None) == (row.left_no is None)
        assert (row.right_text is None) == (row.right_no is None)
        if row.kind == EQUAL:
            assert row.hunk is None
            if not ignore_whitespace:
                assert row.left_text == row.right_text
        else:
            assert row.hunk is not None
        for text, spans in ((row.left_text, row.left_spans), (row.right_text, row.right_spans)):
            content = split_eol(text)[0] if text is not None else ""
            previous_end = -1
            for start, end in spans:
                assert previous_end < start < end <= len(content)
                previous_end = end
    for hunk in result.hunks:
        rows = result.rows[hunk.first_row : hunk.end_row]
        assert rows and all(r.hunk == hunk.index for r in rows)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text_pairs())
def test_identical_texts_give_no_changes(pair):
    old, _ = pair
    assert diff_texts(old, old).identical
    assert unified_diff(old, old) == ""


PATCH = shutil.which("patch")


def _apply(tmp: Path, old: str, new: str) -> bytes:
    target = tmp / "prompt.txt"
    target.write_bytes(old.encode("utf-8"))
    diff = unified_diff(old, new, "a/prompt.txt", "b/prompt.txt")
    (tmp / "change.patch").write_bytes(diff.encode("utf-8"))
    if diff:
        proc = subprocess.run(
            [PATCH, "--batch", "--silent", "--no-backup-if-mismatch", "-u", str(target), str(tmp / "change.patch")],
            capture_output=True,
            cwd=tmp,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return target.read_bytes()


@pytest.mark.skipif(PATCH is None, reason="GNU patch is not installed")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(text_pairs())
def test_unified_diff_applies_with_gnu_patch(tmp_path, pair):
    old, new = pair
    assert _apply(tmp_path, old, new) == new.encode("utf-8")


@pytest.mark.skipif(PATCH is None, reason="GNU patch is not installed")
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb", "a\nb\n"),  # final newline added
        ("a\nb\n", "a\nb"),  # final newline removed
        ("a", "b"),  # neither has one
        ("", "x"),
        ("x", ""),
        ("a\r\nb\r\n", "a\r\nB\r\n"),  # CRLF kept
        ("a\r\nb\r\n", "a\nb\n"),  # CRLF to LF
        ("a\rb\n", "a\rc\n"),  # lone CR inside a line
        ("tab\there\n", "tab    here\n"),
    ],
)
def test_unified_diff_edge_cases_apply(tmp_path, old, new):
    assert _apply(tmp_path, old, new) == new.encode("utf-8")
