"""What failing outputs (or inputs) share that good ones do not: n-gram phrases, measured.

A phrase is 1–6 words inside one sentence. Each text counts a phrase once (document frequency).
With a baseline of good texts, phrases are ranked by the smoothed log-odds of appearing in a
failing text rather than a good one, and kept only when that difference is unlikely to be noise
(z > 1.96); a phrase as common in good texts as in failing ones is never ranked. Without a
baseline they are ranked by how many failing texts share them. A phrase that almost always
comes inside a longer kept phrase is folded into it, so the list reads as signatures, not
fragments. Candidate phrases grow word by word from frequent shorter ones (a phrase cannot be
in more texts than its parts), which keeps 10k + 10k texts to about a second.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from statistics import median

MAX_WORDS = 6
SMOOTHING = 0.5
MIN_Z = 3.0
MIN_LOG_ODDS = math.log(2)

_SENTENCE_RE = re.compile(r"[.!?;:]+(?:\s|$)|\n+")
_WORD_RE = re.compile(r"[\w%$€£]+(?:['-][\w%$€£]+)*", re.UNICODE)
STOPWORDS = frozenset(
    "a an the and or but if of to in on at for with by from as is are was were be been it its this that these "
    "those i you we they he she them our your their my me us do does did not no so than then there here "
    "can could should would will may might must have has had".split()
)


@dataclass(frozen=True)
class PhraseScore:
    phrase: str
    failing: int  # failing texts that contain it
    good: int  # good texts that contain it
    score: float  # log-odds failing vs good (with a baseline), else the share of failing texts

    def to_json(self) -> dict[str, object]:
        return {"phrase": self.phrase, "failing": self.failing, "good": self.good, "score": round(self.score, 3)}


@dataclass(frozen=True)
class LengthStats:
    """Words per text, failing vs good: how input drift (longer, shorter inputs) shows."""

    failing_median: float
    failing_p90: float
    good_median: float | None
    good_p90: float | None

    def to_json(self) -> dict[str, object]:
        return {"failing_median": self.failing_median, "failing_p90": self.failing_p90,
                "good_median": self.good_median, "good_p90": self.good_p90}


Gram = tuple[str, ...]


def _sentences(text: str) -> list[Gram]:
    """A text as its sentences, each a tuple of lower-case words."""
    findall = _WORD_RE.findall
    return [words for words in (tuple(findall(part)) for part in _SENTENCE_RE.split(text.lower())) if words]


def _doc_grams(sentences: list[Gram], n: int, allowed: set[Gram] | None) -> set[Gram]:
    """The n-grams of one text; with ``allowed`` (the frequent (n-1)-grams), only extensions of those."""
    grams: set[Gram] = set()
    for s in sentences:
        for i in range(len(s) - n + 1):
            g = s[i:i + n]
            if allowed is None or (g[:-1] in allowed and g[1:] in allowed):
                grams.add(g)
    return grams


def _count(docs: list[list[Gram]], min_df: int) -> dict[Gram, int]:
    """Document frequency of every 1..MAX_WORDS-gram seen in at least ``min_df`` texts."""
    frequent: dict[Gram, int] = {}
    allowed: set[Gram] | None = None
    for n in range(1, MAX_WORDS + 1):
        counts: Counter[Gram] = Counter()
        for sentences in docs:
            counts.update(_doc_grams(sentences, n, allowed))
        level = {g: c for g, c in counts.items() if c >= min_df}
        if not level:
            break
        frequent.update(level)
        allowed = set(level)
    return frequent


def _count_only(docs: list[list[Gram]], wanted: set[Gram]) -> Counter[Gram]:
    counts: Counter[Gram] = Counter()
    if not wanted:
        return counts
    lengths = sorted({len(g) for g in wanted})
    for sentences in docs:
        seen: set[Gram] = set()
        for s in sentences:
            for n in lengths:
                for i in range(len(s) - n + 1):
                    g = s[i:i + n]
                    if g in wanted:
                        seen.add(g)
        counts.update(seen)
    return counts


def _is_phrase(gram: Gram) -> bool:
    # A phrase neither starts nor ends with a stopword ("the refund" is "refund"); a stopword alone is none.
    return gram[0] not in STOPWORDS and gram[-1] not in STOPWORDS


def _contains(longer: Gram, shorter: Gram) -> bool:
    n = len(shorter)
    return any(longer[i:i + n] == shorter for i in range(len(longer) - n + 1))


def rank_phrases(failing: list[str], good: list[str] | None = None, *, limit: int = 20,
                 min_failing: int | None = None) -> list[PhraseScore]:
    """Phrases of ``failing`` texts ranked by how much more often they occur there than in ``good``."""
    good = good or []
    if not failing:
        return []
    fdocs = [_sentences(t) for t in failing]
    gdocs = [_sentences(t) for t in good]
    F, G = len(fdocs), len(gdocs)
    # Noise floor: a signature worth a responder's eye is in at least 2 failing texts, or 1% of many.
    floor = min_failing if min_failing is not None else max(2, F // 100)
    fcounts = _count(fdocs, floor)
    cands = {g: c for g, c in fcounts.items() if _is_phrase(g)}
    gcounts = _count_only(gdocs, set(cands)) if G else Counter()

    scored: list[tuple[Gram, float]] = []
    for g, f in cands.items():
        b = gcounts.get(g, 0)
        if G:
            a = SMOOTHING
            lo = math.log((f + a) / (F - f + a)) - math.log((b + a) / (G - b + a))
            se = math.sqrt(1 / (f + a) + 1 / (F - f + a) + 1 / (b + a) + 1 / (G - b + a))
            # Twice as likely in a failing text at least, and unlikely to be chance among thousands
            # of candidate phrases.
            if lo <= MIN_LOG_ODDS or lo / se <= MIN_Z:
                continue
            scored.append((g, lo))
        else:
            scored.append((g, f / F))
    # Fold a phrase into a longer one that carries (nearly) all of its failing texts.
    by_len = sorted(scored, key=lambda gs: -len(gs[0]))
    keep: list[tuple[Gram, float]] = []
    score_of = dict(scored)
    for g, s in by_len:
        f = cands[g]
        if any(len(k) > len(g) and _contains(k, g) and cands[k] >= 0.8 * f for k, _ in keep):
            continue
        keep.append((g, s))
    # Strongest first; among equals, the phrase in more failing texts, then the longer one.
    keep.sort(key=lambda gs: (-round(score_of[gs[0]], 9), -cands[gs[0]], -len(gs[0]), gs[0]))
    out: list[tuple[Gram, float]] = []
    for g, s in keep:
        if any(_contains(o, g) or _contains(g, o) for o, _ in out):
            continue  # a sub- or super-phrase of one already listed says nothing new
        out.append((g, s))
        if len(out) >= limit:
            break
    return [PhraseScore(" ".join(g), f, b, s) for g, f, b, s in _join_overlaps(
        [(g, cands[g], gcounts.get(g, 0), s) for g, s in out])]


def _join_overlaps(rows: list[tuple[Gram, int, int, float]]) -> list[tuple[Gram, int, int, float]]:
    """"issued a full refund" + "full refund to your account", seen in exactly the same numbers of
    texts, are one sentence longer than six words: show it as one phrase."""
    rows = list(rows)
    joined = True
    while joined:
        joined = False
        for i, (a, fa, ga, sa) in enumerate(rows):
            for j, (b, fb, gb, _sb) in enumerate(rows):
                if i == j or (fa, ga) != (fb, gb):
                    continue
                k = next((k for k in range(min(len(a), len(b)) - 1, 0, -1) if a[-k:] == b[:k]), 0)
                if k:
                    rows[i] = (a + b[k:], fa, ga, sa)
                    del rows[j]
                    joined = True
                    break
            if joined:
                break
    return rows


def length_stats(failing: list[str], good: list[str] | None = None) -> LengthStats | None:
    """Median and 90th percentile of words per text, failing vs good."""
    if not failing:
        return None

    def stats(texts: list[str]) -> tuple[float, float]:
        lengths = sorted(len(_WORD_RE.findall(t)) for t in texts)
        return float(median(lengths)), float(lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))])

    fm, fp = stats(failing)
    gm, gp = stats(good) if good else (None, None)
    return LengthStats(fm, fp, gm, gp)


def says(text: str, phrase: str) -> bool:
    """Whether ``text`` contains ``phrase`` as the analysis reads it (same words, same sentence)."""
    needle = f" {' '.join(w for s in _sentences(phrase) for w in s)} "
    return any(needle in f" {' '.join(s)} " for s in _sentences(text))
