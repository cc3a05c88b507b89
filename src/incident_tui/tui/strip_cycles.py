"""Textual's compositor left every line it painted to the cycle collector; this makes them plain garbage.

``Strip.divide(cuts)`` (Textual 8.2.8) caches its result on the strip, and when the one cut is the
strip's own length the result is ``[self]``: the strip then holds a list holding itself. The
compositor divides every line of every widget it paints, so every line painted became a
reference cycle of about ten objects (the strip, its seven caches, their dicts, its segments'
list) that only a garbage collection frees. On the dashboard that was ~800 such objects per
keystroke; the ones still on screen at a young collection were promoted, so the oldest
generation filled with dead lines and each full collection had more to walk (20-60 ms pauses
inside keystrokes, growing over a long session).

:func:`install` wraps ``Strip.divide`` so that this one case returns a new ``[self]`` without
caching it (building a one-item list costs less than the cache lookup); every other division
is Textual's own, cached as before. ``Strip.crop_extend`` has the same flaw (it caches its
result, which is the strip itself when nothing is cut or added): the diff view crops every line
of a diff with it, and there the strip is no longer cached when it is itself. The caches are
Textual's own (``_divide_cache``, ``_crop_extend_cache``). ``tests/tui/test_gc_pauses.py`` fails
if a painted line is ever left in a cycle again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style
from textual.strip import Strip

_textual_divide = Strip.divide


def _divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cell_length = self.cell_length
    kept = [cut for cut in cuts if cut <= cell_length]  # as Textual's divide keeps them
    if kept == [cell_length]:
        return [self]  # not cached: cached, it would be a cycle (the strip -> its cache -> itself)
    return _textual_divide(self, kept)


def _crop_extend(self: Strip, start: int, end: int, style: Style | None) -> Strip:
    # Textual's crop_extend, but a result that is the strip itself is not cached on it.
    cache_key = (start, end, style)
    cached = self._crop_extend_cache.get(cache_key)
    if cached is not None:
        return cached
    strip = self.extend_cell_length(end, style).crop(start, end)
    if strip is not self:
        self._crop_extend_cache[cache_key] = strip
    return strip


def install() -> None:
    """Idempotent; done once by the app module."""
    Strip.divide = _divide  # type: ignore[method-assign]
    Strip.crop_extend = _crop_extend  # type: ignore[method-assign]
