"""What failing outputs (or inputs) share that good ones do not: n-gram phrases, measured.

A phrase is 1–6 words inside one sentence. Each text counts a phrase once (document frequency).
With a baseline of good texts, phrases are ranked by the smoothed log-odds of appearing in a
failing text rather than a good one, and kept only when that difference is unlikely to be noise
(z > 1.96); a phrase as common in good texts as in failing ones is never ranked. Without a
baseline they are ranked by how many failing texts share them. A phrase that almost always
comes inside a longer kept phrase is folded into it, so the list reads as signatures, not
fragments. Candidate phrases grow word by word from frequent shorter ones (a phrase cannot be
in more texts than its parts), and are made once per distinct sentence, not once per text (outputs
repeat whole sentences): 10k + 10k texts take well under a second (benchmarks/samples.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, compress
from operator import lt
from statistics import median

MAX_WORDS = 6
SMOOTHING = 0.5
MIN_Z = 3.0
MIN_LOG_ODDS = math.log(2)

# A sentence ends at a run of .!?;: followed by a space (or the end), or at line breaks. Written so
# that each match starts with a character of one set, which lets the regex engine skip to it.
_SENTENCE_RE = re.compile(r"[.!?;:\n](?:(?<=\n)\n*|(?<!\n)[.!?;:]*(?:\s|$))")
_WORD_RE = re.compile(r"[\w%$€£][\w%$€£]*(?:['-][\w%$€£]+)*", re.UNICODE)
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


class _Corpus:
    """Texts as their distinct sentences: support bots and agents repeat whole sentences (greetings,
    apologies, the failing line itself) across thousands of outputs, so each distinct sentence is split
    into words and into n-grams once, and a text is the ids of its sentences."""

    def __init__(self, texts: list[str]) -> None:
        parts_of = list(map(_SENTENCE_RE.split, map(str.lower, texts)))
        findall = _WORD_RE.findall
        ids: dict[Gram, int] = {(): 0}  # 0: no words (a text's end, "..."), left out of the texts
        of_part = dict.fromkeys(chain.from_iterable(parts_of), 0)  # each sentence as written -> its id
        for part in of_part:
            of_part[part] = ids.setdefault(tuple(findall(part)), len(ids))
        get = of_part.__getitem__
        self.texts: list[list[int]] = []
        for parts in parts_of:
            sids = dict.fromkeys(map(get, parts))
            sids.pop(0, None)
            self.texts.append(list(sids))
        self.sentences = list(ids)

    def doc_freq(self, *, min_df: int = 1, known: dict[Gram, int] | None = None) -> dict[Gram, int]:
        """How many texts hold each 1..MAX_WORDS-gram that is in at least ``min_df`` texts (and, given
        ``known``, is one of those). An n-gram is only made where both of its (n-1)-grams were kept: a
        phrase cannot be in more texts than its parts, and ``known`` holds the parts of all it holds."""
        found: dict[Gram, int] = {}
        sentences = self.sentences
        n_sentences = len(sentences)
        holding = Counter(chain.from_iterable(self.texts))  # how many texts hold each sentence
        # A text holds an n-gram once, however many of its sentences hold it. A text whose sentences
        # share no n-gram adds each sentence's n-grams; the others ("overlapping") are counted through
        # the union of their sentences' n-grams. Sentences sharing no (n-1)-gram share no n-gram, so
        # the overlapping texts only get fewer as n grows.
        overlapping = [sids for sids in self.texts if len(sids) > 1]
        live: Iterable[int] = range(n_sentences)  # the sentences that may still hold an n-gram
        for n in range(1, MAX_WORDS + 1):
            grams: list[set[Gram]]
            if n == 1:
                grams = list(map(set, map(zip, sentences)))
            else:
                # The n-grams of each sentence whose two (n-1)-grams were kept.
                grams = [_NONE] * n_sentences
                shifts = range(1, n)
                for sid in live:
                    words = sentences[sid]
                    if len(words) >= n:
                        grams[sid] = {g for g in zip(words, *[words[k:] for k in shifts])
                                      if g[:-1] in found and g[1:] in found}
            of = grams.__getitem__
            unions = [_NONE.union(*map(of, sids)) for sids in overlapping]
            sizes = [sum(map(len, map(of, sids))) for sids in overlapping]
            counts = Counter(chain.from_iterable(unions))
            in_overlapping = Counter(chain.from_iterable(overlapping))
            once: list[set[Gram]] = []
            for sid in live:
                weight = holding[sid] - in_overlapping[sid]
                if weight == 1:
                    once.append(grams[sid])
                elif weight:
                    for g in grams[sid]:
                        counts[g] += weight
            counts.update(chain.from_iterable(once))
            level = {g: c for g, c in counts.items() if (c >= min_df if known is None else g in known)}
            if not level:
                break
            found.update(level)
            overlapping = list(compress(overlapping, map(lt, map(len, unions), sizes)))
            # An (n+1)-gram needs two kept n-grams side by side: two different ones, or one that is
            # a word repeated ("no no" + "no no" make "no no no").
            kept = set(level)
            live = [sid for sid in live if len(hit := grams[sid] & kept) > 1 or hit and _repeats(*hit)]
        return found


_NONE: set[Gram] = set()  # shared by every sentence with no n-gram left; never changed


def _repeats(gram: Gram) -> bool:
    return gram[1:] == gram[:-1]


def _is_phrase(gram: Gram) -> bool:
    # A phrase neither starts nor ends with a stopword ("the refund" is "refund"); a stopword alone is none.
    return gram[0] not in STOPWORDS and gram[-1] not in STOPWORDS


def _parts(gram: Gram) -> set[Gram]:
    """Every run of consecutive words of ``gram``, itself included."""
    n = len(gram)
    return {gram[i:j] for i in range(n) for j in range(i + 1, n + 1)}


def rank_phrases(failing: list[str], good: list[str] | None = None, *, limit: int = 20,
                 min_failing: int | None = None) -> list[PhraseScore]:
    """Phrases of ``failing`` texts ranked by how much more often they occur there than in ``good``."""
    good = good or []
    if not failing:
        return []
    F, G = len(failing), len(good)
    # Noise floor: a signature worth a responder's eye is in at least 2 failing texts, or 1% of many.
    floor = min_failing if min_failing is not None else max(2, F // 100)
    fcounts = _Corpus(failing).doc_freq(min_df=floor)
    cands = {g: c for g, c in fcounts.items() if _is_phrase(g)}
    gcounts = _Corpus(good).doc_freq(known=fcounts) if G and cands else {}

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
    inside: dict[Gram, int] = {}  # a shorter part of a kept phrase -> the most failing texts of those
    for g, s in by_len:
        f = cands[g]
        if g in inside and inside[g] >= 0.8 * f:
            continue
        keep.append((g, s))
        for part in _parts(g):
            if part != g and inside.get(part, 0) < f:
                inside[part] = f
    # Strongest first; among equals, the phrase in more failing texts, then the longer one.
    keep.sort(key=lambda gs: (-round(score_of[gs[0]], 9), -cands[gs[0]], -len(gs[0]), gs[0]))
    out: list[tuple[Gram, float]] = []
    listed: set[Gram] = set()  # the phrases listed
    within: set[Gram] = set()  # every part of them
    for g, s in keep:
        if g in within or not listed.isdisjoint(_parts(g)):
            continue  # a sub- or super-phrase of one already listed says nothing new
        out.append((g, s))
        listed.add(g)
        within.update(_parts(g))
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
