"""Wrap points of a line: parts of at most N cells, no character cut, nothing lost."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from incident_tui.domain.diff import char_cells, wrap_points


def parts(text: str, width: int) -> list[str]:
    points = wrap_points(text, width)
    return [text[a:b] for (a, _), (b, _) in zip(points, points[1:])]


def cells(text: str) -> int:
    return sum(char_cells(ch) for ch in text)


def test_ascii_wraps_every_width_cells():
    assert parts("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert wrap_points("abcdefghij", 4) == [(0, 0), (4, 4), (8, 8), (10, 10)]
    assert parts("abcd", 4) == ["abcd"]


def test_empty_text_is_one_empty_part():
    assert wrap_points("", 5) == [(0, 0), (0, 0)]
    assert parts("", 5) == [""]


def test_a_wide_character_is_never_cut_in_two():
    # 5 cells of room: "ab" + "漢" (2) = 4, the next "字" would straddle the edge.
    assert parts("ab漢字cd", 5) == ["ab漢", "字cd"]
    assert wrap_points("ab漢字cd", 5) == [(0, 0), (3, 4), (6, 8)]
    assert parts("😀😀😀", 3) == ["😀", "😀", "😀"]


def test_a_combining_mark_stays_with_its_letter():
    text = "abcde\u0301fg"  # e + combining acute at the edge of 5 cells
    assert parts(text, 5) == ["abcde\u0301", "fg"]


def test_a_character_wider_than_the_column_gets_a_part_of_its_own():
    assert parts("a漢b", 1) == ["a", "漢", "b"]


@given(st.text(alphabet=st.sampled_from("ab \t漢字😀\u0301é·"), max_size=80), st.integers(2, 30))
def test_parts_join_back_fit_and_are_full(text, width):
    got = parts(text, width)
    assert "".join(got) == text
    for i, part in enumerate(got):
        assert cells(part) <= width
        if i < len(got) - 1:
            # A part is only short by what the next character needs.
            assert cells(part) + char_cells(got[i + 1][0]) > width
