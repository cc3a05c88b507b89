"""What failures share: ranking, sub-phrase folding, baselines (domain/phrases.py)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from incident_tui.domain.phrases import length_stats, rank_phrases

FILLER = [f"word{i}" for i in range(400)]


def texts(n: int, planted: str | None, seed: int, every: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        body = " ".join(rng.choice(FILLER) for _ in range(12)) + ". "
        if planted and i % every == 0:
            body += planted + ". "
        out.append(body + " ".join(rng.choice(FILLER) for _ in range(8)) + ".")
    return out


def test_planted_phrase_is_found_first_against_a_baseline():
    failing = texts(200, "I have issued a full refund to your account", 1)
    good = texts(200, "a refund needs approval from billing", 2)
    ranked = rank_phrases(failing, good)
    assert ranked[0].phrase == "issued a full refund to your account"
    assert (ranked[0].failing, ranked[0].good) == (200, 0)
    # The good texts' own phrase is never a failure signature.
    assert not any("approval" in p.phrase for p in ranked)


def test_sub_phrases_do_not_crowd_the_list():
    failing = texts(100, "the agent keeps viewing the directory instead of editing", 3)
    ranked = rank_phrases(failing, texts(100, None, 4))
    assert [p.phrase for p in ranked].count("directory") == 0
    assert sum("viewing" in p.phrase for p in ranked) == 1


def test_a_phrase_common_to_good_and_failing_outputs_is_not_ranked():
    failing = texts(300, "thanks for reaching out", 5)
    good = texts(300, "thanks for reaching out", 6)
    assert not any("reaching" in p.phrase for p in rank_phrases(failing, good))


def test_a_phrase_in_a_minority_of_failures_is_still_ranked_when_good_outputs_lack_it():
    failing = texts(300, "please call our premium hotline", 7, every=3)
    ranked = rank_phrases(failing, texts(300, None, 8))
    top = ranked[0]
    assert top.phrase == "please call our premium hotline" and top.failing == 100 and top.good == 0


def test_without_a_baseline_phrases_rank_by_how_many_failures_share_them():
    failing = texts(20, "refund issued", 9, every=2) + texts(20, "escalated to tier two", 10, every=1)
    ranked = rank_phrases(failing)
    assert [p.phrase for p in ranked[:2]] == ["escalated to tier two", "refund issued"]
    assert ranked[0].score == 1.0 * 20 / 40


def test_phrases_stay_inside_sentences_and_skip_stopword_edges():
    failing = ["It ended. Then the view started", "It ended. Then the view started"] * 3
    phrases = [p.phrase for p in rank_phrases(failing)]
    assert "ended then" not in " | ".join(phrases)
    assert all(not p.startswith(("the ", "then the")) for p in phrases)


def test_nothing_in_nothing_out():
    assert rank_phrases([]) == []
    assert rank_phrases([""], [""]) == []
    assert length_stats([]) is None


def test_input_lengths():
    stats = length_stats(["one two three"] * 9 + ["x " * 40], ["one"] * 10)
    assert stats.failing_median == 3 and stats.failing_p90 == 40 and stats.good_median == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=12), st.lists(st.text(max_size=80), max_size=12))
def test_any_text_ranks_without_error_and_counts_are_consistent(failing, good):
    for p in rank_phrases(failing, good):
        assert 1 <= p.failing <= len(failing) and 0 <= p.good <= len(good)
        assert p.phrase.strip() == p.phrase and p.phrase
