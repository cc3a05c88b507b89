"""domain.text: ``clean`` for what is stored, ``neutralise`` for what is shown, ``json_safe`` for JSON."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from incident_tui.domain.text import BIDI_CONTROLS, clean, is_safe, json_safe, neutralise, visible

OSC_TITLE = "\x1b]0;PWNED\x07"
OSC_CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
HOSTILE = f"a{OSC_TITLE}b\x1b[2J\x9b31m\u202eevil\u202c\u2066x\u2069\u2028y\u200e\u061cz\x00\udcff"

# Text that mixes what an attacker would send with ordinary text, tabs and newlines.
hostile_chars = st.one_of(
    st.characters(),  # any code point, lone surrogates included
    st.sampled_from(sorted(BIDI_CONTROLS) + ["\x1b", "\x07", "\x9b", "\x85", "\u2028", "\u2029", "\n", "\t", "\r"]),
)
hostile_text = st.text(hostile_chars, max_size=60)


def unsafe(text: str, *, newlines_ok: bool = True) -> list[str]:
    """Characters a terminal or renderer would apply: Cc but (maybe) \\n \\t, bidi, separators, surrogates."""
    bad = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc" and not (newlines_ok and ch in "\n\t"):
            bad.append(ch)
        elif ch in BIDI_CONTROLS or ch in "\u2028\u2029" or cat == "Cs":
            bad.append(ch)
    return bad


def test_neutralise_shows_escapes_controls_and_bidi_visibly():
    out = neutralise(HOSTILE)
    assert out == (
        "a␛]0;PWNED␇b␛[2J<U+009B>31m<U+202E>evil<U+202C><U+2066>x<U+2069><U+2028>y<U+200E><U+061C>z␀<0xFF>"
    )
    assert unsafe(out) == []


def test_neutralise_keeps_ordinary_text_newlines_tabs_and_emoji_joiners():
    text = "Résumé\tsummaries 日本語 «x»\nline two 👩‍💻 — ok [b] <i>"
    assert neutralise(text) == text
    assert is_safe(text)


def test_one_line_mode_shows_newlines_and_tabs_too():
    assert visible("GET /a\nb\tc") == "GET /a␊b␉c"
    assert neutralise("a\r\nb", newlines=False) == "a␍␊b"


def test_zero_width_mode_shows_joiners():
    assert neutralise("a\u200db") == "a\u200db"
    assert neutralise("a\u200db", zero_width=True) == "a<U+200D>b"


def test_clean_strips_sequences_keeps_lines_and_replaces_bad_bytes():
    assert clean(f"x{OSC_TITLE}{OSC_CLIPBOARD}\x1b[31mred\x1b[0m\r\ny\u2028z\udcff") == "xred\ny\nz\ufffd"
    assert clean("a\u2029b\tc", multiline=False) == "a b c"


def test_json_safe_keeps_the_document_and_escapes_the_rest():
    doc = json.dumps({"t": HOSTILE, "u": "ünï 👩‍💻"}, ensure_ascii=False)
    out = json_safe(doc)
    assert json.loads(out) == json.loads(doc)
    assert unsafe(out) == [] and "ünï 👩‍💻" in out
    out.encode("utf-8")  # no lone surrogate left to fail on the way out


@given(hostile_text)
def test_neutralise_output_never_has_a_raw_control(text):
    out = neutralise(text)
    assert unsafe(out) == []
    assert unsafe(neutralise(text, newlines=False), newlines_ok=False) == []
    out.encode("utf-8")
    assert neutralise(out) == out  # what it shows is itself safe


@given(hostile_text)
def test_neutralise_changes_only_what_it_must(text):
    if not unsafe(text) and not any(ch in "\u200b\u2060\ufeff" for ch in text):
        assert neutralise(text) == text


@given(hostile_text)
def test_clean_output_has_no_control_but_newline_and_tab(text):
    out = clean(text)
    assert all(unicodedata.category(ch) != "Cc" or ch in "\n\t" for ch in out)
    assert "\u2028" not in out and not any(unicodedata.category(ch) == "Cs" for ch in out)
    assert "\n" not in clean(text, multiline=False)


@given(st.recursive(st.none() | st.booleans() | hostile_text,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
                    max_leaves=8))
def test_json_safe_round_trips(data):
    doc = json.dumps(data, ensure_ascii=False, indent=2)
    out = json_safe(doc)
    assert json.loads(out) == data
    assert unsafe(out) == []
