"""The diff engine on hand-picked cases and on the real OpenHands prompt history."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident_tui.domain.diff import (
    DELETE,
    EQUAL,
    INSERT,
    REPLACE,
    diff_texts,
    diff_to_json,
    fold_rows,
    split_eol,
    split_lines,
    unified_diff,
    visible,
)


@pytest.fixture
def history(openhands_history: Path):
    """Read one version of the real history, byte for byte."""
    return lambda name: (openhands_history / name).read_bytes().decode("utf-8")


def sides(result) -> tuple[str, str]:
    left = "".join(r.left_text for r in result.rows if r.left_text is not None)
    right = "".join(r.right_text for r in result.rows if r.right_text is not None)
    return left, right


def test_split_lines_keeps_terminators_and_only_splits_on_newline():
    assert split_lines("") == []
    assert split_lines("a") == ["a"]
    assert split_lines("a\n") == ["a\n"]
    assert split_lines("a\r\nb\rc\x0cd\n\ne") == ["a\r\n", "b\rc\x0cd\n", "\n", "e"]
    assert split_eol("x\r\n") == ("x", "\r\n")
    assert split_eol("x\n") == ("x", "\n")
    assert split_eol("x") == ("x", "")


def test_identical_texts_have_no_hunks_and_fold_to_one_range():
    text = "".join(f"line {i}\n" for i in range(20))
    result = diff_texts(text, text)
    assert result.identical
    assert all(r.kind == EQUAL for r in result.rows)
    assert fold_rows(result.rows) == [(0, 20, True)]
    assert unified_diff(text, text) == ""


def test_real_regression_v04_to_v05_is_line_level_with_word_highlights(history):
    old, new = history("v04.j2"), history("v05.j2")
    result = diff_texts(old, new)
    kinds = [r.kind for r in result.rows]
    # One inserted line, one edited line, everything else untouched: not the coarse
    # "all deleted, all inserted" answer dmp's char mode gives on real prompts.
    assert kinds.count(EQUAL) == 5
    assert kinds.count(INSERT) == 1
    assert kinds.count(REPLACE) == 1
    assert len(result.hunks) == 2
    (replaced,) = [r for r in result.rows if r.kind == REPLACE]
    left, _ = split_eol(replaced.left_text)
    right, _ = split_eol(replaced.right_text)
    assert [left[a:b] for a, b in replaced.left_spans] == ["The assistant"]
    assert [right[a:b] for a, b in replaced.right_spans] == ["You"]
    assert result.stats.lines_added == 2 and result.stats.lines_removed == 1
    assert sides(result) == (old, new)


def test_rollback_v06_equals_v04(history):
    assert diff_texts(history("v04.j2"), history("v06.j2")).identical


@pytest.mark.parametrize("pair", [(f"v{i:02d}.j2", f"v{i + 1:02d}.j2") for i in range(1, 24)])
def test_every_real_revision_aligns_exactly(pair, history):
    old, new = history(pair[0]), history(pair[1])
    result = diff_texts(old, new)
    assert sides(result) == (old, new)
    for row in result.rows:
        if row.kind == EQUAL:
            assert row.left_text == row.right_text
    # Line numbers run 1..n on each side, in order, with no gaps.
    assert [r.left_no for r in result.rows if r.left_no] == list(range(1, len(split_lines(old)) + 1))
    assert [r.right_no for r in result.rows if r.right_no] == list(range(1, len(split_lines(new)) + 1))


def test_filler_rows_sit_opposite_insertions_and_deletions():
    result = diff_texts("a\nb\nc\n", "a\nc\nd\n")
    rows = [(r.kind, r.left_text, r.right_text) for r in result.rows]
    assert rows == [
        (EQUAL, "a\n", "a\n"),
        (DELETE, "b\n", None),
        (EQUAL, "c\n", "c\n"),
        (INSERT, None, "d\n"),
    ]
    assert [r.hunk for r in result.rows] == [None, 0, None, 1]
    assert [(h.first_row, h.end_row) for h in result.hunks] == [(1, 2), (3, 4)]


def test_edited_line_pairs_with_its_old_self_inside_a_bigger_block():
    old = "intro\nAlways answer in English.\nend\n"
    new = "intro\nA brand new rule about tools.\nAlways answer in French.\nend\n"
    result = diff_texts(old, new)
    changed = [r for r in result.rows if r.kind != EQUAL]
    assert [r.kind for r in changed] == [INSERT, REPLACE]
    replace = changed[1]
    assert replace.left_text == "Always answer in English.\n"
    assert replace.right_text == "Always answer in French.\n"
    left, _ = split_eol(replace.left_text)
    assert [left[a:b] for a, b in replace.left_spans] == ["English"]


def test_whitespace_changes_are_changes_unless_ignored():
    old = "use tools\n\tbe brief\nend\n"
    new = "use  tools\n    be brief\nend\n"
    result = diff_texts(old, new)
    assert [r.kind for r in result.rows] == [REPLACE, REPLACE, EQUAL]
    first = result.rows[0]
    assert first.right_spans and all(not "use  tools"[a:b].strip() for a, b in first.right_spans)
    ignored = diff_texts(old, new, ignore_whitespace=True)
    assert ignored.identical
    assert sides(ignored) == (old, new)


def test_line_ending_and_final_newline_changes_are_changes():
    result = diff_texts("a\r\nb\n", "a\nb")
    assert [r.kind for r in result.rows] == [REPLACE, REPLACE]
    assert all(not r.left_spans and not r.right_spans for r in result.rows)
    assert diff_texts("a\r\nb\n", "a\nb", ignore_whitespace=True).identical


def test_unified_diff_marks_missing_final_newline():
    out = unified_diff("a\nb", "a\nc\n", "old", "new")
    assert out == "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"


def test_unified_diff_context_groups_and_ranges():
    old = "".join(f"{i}\n" for i in range(1, 21))
    new = old.replace("2\n", "two\n", 1).replace("19\n", "nineteen\n")
    out = unified_diff(old, new, "a", "b", context=2)
    headers = [line for line in out.splitlines() if line.startswith("@@")]
    assert headers == ["@@ -1,4 +1,4 @@", "@@ -17,4 +17,4 @@"]
    assert unified_diff("", "x\n").splitlines()[2] == "@@ -0,0 +1 @@"
    assert unified_diff("x\n", "").splitlines()[2] == "@@ -1 +0,0 @@"


def test_stats_count_lines_and_words():
    result = diff_texts("keep\nthe red fox\ndrop me now\n", "keep\nthe blue fox\n")
    s = result.stats
    assert (s.lines_added, s.lines_removed) == (1, 2)
    assert (s.words_added, s.words_removed) == (1, 4)  # blue / red, drop, me, now
    assert s.words_changed == 5
    assert (s.added, s.removed) == (1, 2)


def test_json_has_rows_spans_hunks_and_stats(history):
    doc = diff_to_json(diff_texts(history("v04.j2"), history("v05.j2")))
    assert doc["stats"]["lines_added"] == 2
    assert len(doc["hunks"]) == 2
    replaced = [r for r in doc["rows"] if r["kind"] == "replace"][0]
    assert replaced["left"]["spans"] == [[2, 15]]
    assert replaced["right"]["line"] == 6
    inserted = [r for r in doc["rows"] if r["kind"] == "insert"][0]
    assert inserted["left"] is None


def test_fold_keeps_three_lines_of_context_around_changes():
    old = "".join(f"line {i}\n" for i in range(30))
    new = old.replace("line 15\n", "line fifteen\n")
    result = diff_texts(old, new)
    assert fold_rows(result.rows, 3) == [(0, 12, True), (12, 15, False), (15, 16, False), (16, 19, False), (19, 30, True)]
    # A run one longer than the context it keeps is not worth folding.
    small = diff_texts("a\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n")
    assert all(not folded for *_, folded in fold_rows(small.rows, 3))


def test_visible_neutralises_escapes_and_invisible_characters():
    assert visible("a\x1b[31mb") == "a\u241b[31mb"
    assert visible("x\u202ey") == "x<U+202E>y"
    assert visible("\tz", tab="→   ") == "→   z"
    assert visible("😀 ok") == "😀 ok"


def test_reordered_file_does_not_recurse_too_deep():
    old = "".join(f"line {i}\n" for i in range(5000))
    new = "".join(f"line {i}\n" for i in reversed(range(5000)))
    result = diff_texts(old, new)
    assert sides(result) == (old, new)


def test_repetitive_text_without_unique_lines():
    old = "x\n\n" * 300
    new = "x\n\n" * 150 + "y\n" + "x\n\n" * 150
    result = diff_texts(old, new)
    assert sides(result) == (old, new)
    assert result.stats.lines_added == 1 and result.stats.lines_removed == 0
