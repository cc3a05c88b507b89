"""The validate hook's pass rate and when promotion asks first (domain/validation.py)."""

from __future__ import annotations

import pytest

from incident_tui.domain.validation import PassRate, parse_pass_rate, promotion_warning


@pytest.mark.parametrize("output,rate,counts", [
    ("running 100 samples\npass=0.93\n", 0.93, (None, None)),
    ("PASS: 93\n", 0.93, (None, None)),
    ("93/100", 0.93, (93, 100)),
    ("log line\n  87 / 90  \n\n", 87 / 90, (87, 90)),
    ("done: 100%", 1.0, (None, None)),
    ("pass=0", 0.0, (None, None)),
])
def test_pass_rates(output, rate, counts):
    got = parse_pass_rate(output)
    assert got is not None and got.rate == pytest.approx(rate) and (got.passed, got.total) == counts


@pytest.mark.parametrize("output", ["", "\n\n", "all good", "pass=1.5x", "5/0", "6/5", "pass=150", "93/100 then more"])
def test_no_pass_rate(output):
    assert parse_pass_rate(output) is None


def test_promotion_asks_when_validation_is_missing_stale_or_low():
    assert "never validated" in promotion_warning(None, None, 8)
    assert "last validation was of v7, not v8" in promotion_warning(PassRate(0.99), 7, 8)
    assert "passed 80%" in promotion_warning(PassRate(0.8), 8, 8, 0.9)
    assert promotion_warning(PassRate(0.95), 8, 8, 0.9) == ""
