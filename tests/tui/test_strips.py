"""A painted line makes its caches when it first uses them, and they work as Textual's own did."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.cache import FIFOCache
from textual.color import Color
from textual.filter import DimFilter
from textual.strip import Strip

import incident_tui.tui.app  # noqa: F401  (installs the adjustments, as the dashboard does)
from incident_tui.tui.strips import CACHES, made_caches


def line() -> Strip:
    return Strip([Segment("hello ", Style(bold=True)), Segment("world", Style(italic=True))], 11)


def test_a_new_line_holds_no_cache_until_it_uses_one():
    assert all(isinstance(Strip.__dict__[name], property) for name in CACHES)  # installed
    strip = line()
    assert made_caches(strip) == set()
    strip.crop(0, 5)
    assert made_caches(strip) == {"_crop_cache"}
    strip.divide([3, 11])
    strip.apply_style(Style(underline=True))
    assert made_caches(strip) == {"_crop_cache", "_divide_cache", "_style_cache"}


def test_the_caches_keep_textuals_sizes_and_results():
    strip = line()
    assert strip.crop(0, 5) is strip.crop(0, 5)  # cached: the same strip again
    assert strip.crop(0, 5).text == "hello"
    parts = strip.divide([3, 11])
    assert strip.divide([3, 11]) is parts and [part.text for part in parts] == ["hel", "lo world"]
    dim = DimFilter()
    filtered = strip.apply_filter(dim, Color(0, 0, 0))
    assert strip.apply_filter(dim, Color(0, 0, 0)) is filtered
    assert isinstance(strip._crop_cache, FIFOCache) and strip._crop_cache._maxsize == 16
    assert strip._divide_cache._maxsize == 4 and strip._style_cache._maxsize == 16
    for start in range(20):  # more crops than the cache holds: the oldest go, as in Textual's FIFOCache
        strip.crop(start % 11, 11)
    assert len(strip._crop_cache) == 11


def test_a_line_without_caches_still_joins_renders_and_compares():
    a, b = line(), line()
    assert a == b and a.text == "hello world" and a.cell_length == 11
    joined = Strip.join([a, b])
    assert joined.text == "hello worldhello world"
    assert made_caches(joined) == set()
