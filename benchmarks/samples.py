"""Benchmark of `samples common`: what 10k failing outputs share against 10k good ones.

Generates support-bot-like samples (fixed seed): every failing output carries one of a few
failure signatures among varied filler, good outputs carry the right policy sentence. Times
the whole analysis the CLI runs (outputs and inputs, both ranked against the baseline) on
10k + 10k, beside its baseline: the pairwise matcher it replaces (`domain.samples.common_phrases`,
quadratic in samples), measured on 100 failing samples only since it cannot finish 10k.

Usage: ``python benchmarks/samples.py``. The last line is
``samples_common_10k_s=… goal_s=2.0 pairwise_100_s=… top_phrase_ok=yes|no``.
"""

from __future__ import annotations

import random
import time

from incident_tui.domain.models import FailureSample
from incident_tui.domain.phrases import length_stats, rank_phrases
from incident_tui.domain.samples import common_phrases

PRODUCTS = "order parcel subscription invoice laptop headset voucher booking ticket plan".split()
PROBLEMS = "arrived late was damaged is missing was charged twice never shipped stopped working".split(" ")
OPENERS = ["Thanks for your patience.", "Sorry for the trouble.", "I understand how frustrating this is.",
           "Let me look into that for you.", "I checked your account."]
SIGNATURES = ["I have issued a full refund to your account", "you will receive a replacement by tomorrow",
              "our premium support line will call you today"]
POLICY = "a refund needs approval from the billing team"


def sample(rng: random.Random, failing: bool) -> tuple[str, str]:
    product = rng.choice(PRODUCTS)
    problem = " ".join(rng.sample(PROBLEMS, 2))
    user = f"My {product} {problem}. Order number {rng.randint(10000, 99999)}."
    if failing and rng.random() < 0.5:
        user += " I want my money back now."
    body = [rng.choice(OPENERS), f"About your {product}: it {problem}."]
    body.append(rng.choice(SIGNATURES) + "." if failing else POLICY.capitalize() + ".")
    body.append(rng.choice(OPENERS))
    return user, " ".join(body)


def main() -> None:
    rng = random.Random(20261130)
    failing = [sample(rng, True) for _ in range(10_000)]
    good = [sample(rng, False) for _ in range(10_000)]

    started = time.perf_counter()
    outputs = rank_phrases([o for _, o in failing], [o for _, o in good])
    rank_phrases([i for i, _ in failing], [i for i, _ in good])
    length_stats([i for i, _ in failing], [i for i, _ in good])
    ours = time.perf_counter() - started

    few = [FailureSample("INC", i, o) for i, o in failing[:100]]
    started = time.perf_counter()
    common_phrases(few)
    pairwise = time.perf_counter() - started

    top = {p.phrase for p in outputs[:3]}
    ok = len(top) == 3 and all(any(p in s.lower() for s in SIGNATURES) for p in top)
    for p in outputs[:5]:
        print(f"  {p.phrase!r}: {p.failing} failing, {p.good} good, log-odds {p.score:+.2f}")
    print(f"samples_common_10k_s={ours:.2f} goal_s=2.0 pairwise_100_s={pairwise:.2f} "
          f"top_phrase_ok={'yes' if ok else 'no'}")


if __name__ == "__main__":
    main()
