"""What the failure outputs have in common: phrases shared across samples, checked against the prompt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from .models import FailureSample
from .phrases import _SENTENCE_RE, STOPWORDS

_WORD_RE = re.compile(r"[\w'%$€£.-]+", re.UNICODE)


@dataclass(frozen=True)
class SharedPhrase:
    phrase: str
    samples: int  # in how many samples it appears
    in_prompt: bool  # whether the prompt's text contains it


def _tokens(text: str) -> list[str]:
    return [w.strip(".-").lower() for w in _WORD_RE.findall(text) if w.strip(".-")]


def common_phrases(
    samples: list[FailureSample], prompt_text: str = "", *, limit: int = 15
) -> list[SharedPhrase]:
    """The longest word runs shared by at least two samples' outputs, most shared and longest first.

    Runs come from matching every pair of outputs word by word; a run inside a longer one
    that is shared as widely is dropped, so the list reads as the failure's signature rather
    than its fragments. ``in_prompt`` says whether the prompt itself uses the phrase (a hint
    that the prompt taught it).
    """
    if len(samples) < 2:
        return []
    # Phrases do not cross sentence or line ends: "view the directory first." and the next line
    # are two phrases, not one.
    segmented = [[_tokens(part) for part in _SENTENCE_RE.split(s.output) if part.strip()] for s in samples]
    candidates: set[str] = set()
    for i, segments in enumerate(segmented):
        for other in segmented[i + 1 :]:
            for a in segments:
                for b in other:
                    matcher = SequenceMatcher(None, a, b, autojunk=False)
                    for block in matcher.get_matching_blocks():
                        run = a[block.a : block.a + block.size]
                        if run and not all(t in STOPWORDS for t in run):
                            candidates.add(" ".join(run))
    padded = [[f" {' '.join(tokens)} " for tokens in segments] for segments in segmented]
    counts = {c: sum(1 for parts in padded if any(f" {c} " in p for p in parts)) for c in candidates}
    kept = [
        (phrase, count)
        for phrase, count in counts.items()
        if count >= 2
        and not any(o != phrase and f" {phrase} " in f" {o} " and counts[o] >= count for o in counts)
    ]
    kept.sort(key=lambda pc: (-pc[1], -len(pc[0].split()), pc[0]))
    prompt_parts = [f" {' '.join(_tokens(part))} " for part in _SENTENCE_RE.split(prompt_text)]
    return [SharedPhrase(p, c, any(f" {p} " in part for part in prompt_parts)) for p, c in kept[:limit]]
