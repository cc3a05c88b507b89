"""Validating a fix on the failures: what a validate hook's last line means, and when promotion asks.

The hook prints its pass rate as its last line: ``pass=0.93``, ``93/100`` or ``93%``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RATE_RE = re.compile(r"pass\s*[=:]\s*(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)
_RATIO_RE = re.compile(r"(\d+)\s*/\s*(\d+)\s*$")
_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*$")

DEFAULT_MIN_PASS = 0.9


@dataclass(frozen=True)
class PassRate:
    rate: float  # 0..1
    passed: int | None = None
    total: int | None = None

    @property
    def percent(self) -> str:
        return f"{self.rate * 100:.0f}%"


def parse_pass_rate(output: str) -> PassRate | None:
    """The pass rate from the last non-empty line of a hook's output, or None when it gives none."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1]
    if m := _RATE_RE.search(last):
        value = float(m.group(1))
        rate = value / 100 if value > 1 else value
    elif m := _RATIO_RE.search(last):
        passed, total = int(m.group(1)), int(m.group(2))
        if total == 0 or passed > total:
            return None
        return PassRate(passed / total, passed, total)
    elif m := _PERCENT_RE.search(last):
        rate = float(m.group(1)) / 100
    else:
        return None
    if not 0 <= rate <= 1:
        return None
    return PassRate(rate)


def promotion_warning(last: PassRate | None, version_validated: int | None, version: int | None,
                      min_pass: float = DEFAULT_MIN_PASS) -> str:
    """Why promoting ``version`` deserves a second look ('' when it does not)."""
    if last is None or version_validated is None:
        return f"v{version} was never validated on the failure samples"
    if version_validated != version:
        return f"the last validation was of v{version_validated}, not v{version}"
    if last.rate < min_pass:
        return f"v{version} passed {last.percent} of the failure samples, below the bar of {min_pass * 100:.0f}%"
    return ""
