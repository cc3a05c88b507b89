"""Two adjustments to Textual's Strip (a painted line), which every widget makes hundreds of per frame.

**No line is left in a reference cycle.** Textual's compositor left every line it painted to the
cycle collector; this makes them plain garbage.

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

**A line's caches are made when first used.** Textual 8.2.8 gives every Strip seven result
caches (crop, divide, style, filter, ...) when it is made: seven objects and seven dicts per line,
~0.8 µs of the ~1.2 µs a Strip costs. Most lines never use most of them (a line a widget paints
goes through one filter and one divide, and the strips those make are used once), and a
keystroke that paints a new incident makes ~500 strips: building and freeing their unused
caches was ~15% of painting the timeline. Here each cache is a property over Textual's own slot
that makes the cache on first access, with the size Textual gives it; what a cache holds and
when it is used are Textual's own. ``tests/tui/test_strips.py`` checks both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style
from textual.cache import FIFOCache
from textual.strip import Strip

#: Textual 8.2.8's per-strip caches; install() leaves Strip alone if its slots are not these.
CACHES = ("_divide_cache", "_crop_cache", "_style_cache", "_filter_cache", "_line_length_cache",
          "_crop_extend_cache", "_offsets_cache")
_SLOTS = {*CACHES, "_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count"}
_slots: dict[str, object] = {}  # Textual's slot descriptors of the caches, once install() put properties over them

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


def _lazy_cache(slot, size: int) -> property:
    get_slot, set_slot = slot.__get__, slot.__set__

    def cache(self: Strip) -> FIFOCache:
        try:
            return get_slot(self, Strip)
        except AttributeError:  # not used on this strip yet
            made: FIFOCache = FIFOCache(size)
            set_slot(self, made)
            return made

    return property(cache, set_slot)


def _init(self: Strip, segments: Iterable, cell_length: int | None = None) -> None:
    # Textual's Strip.__init__ without the caches (made on first use, see _lazy_cache).
    self._segments = list(segments)
    self._cell_length = cell_length
    self._render_cache = None
    self._link_ids = None
    self._cell_count = None


def install() -> None:
    """Idempotent; done once by the app module."""
    Strip.divide = _divide  # type: ignore[method-assign]
    Strip.crop_extend = _crop_extend  # type: ignore[method-assign]
    if Strip.__init__ is _init or set(Strip.__slots__) != _SLOTS:
        return  # done already, or not the Strip this was written for
    probe = Strip([])
    sizes = {name: getattr(probe, name)._maxsize for name in CACHES}
    for name in CACHES:
        _slots[name] = Strip.__dict__[name]
        setattr(Strip, name, _lazy_cache(_slots[name], sizes[name]))
    Strip.__init__ = _init  # type: ignore[method-assign]


def made_caches(strip: Strip) -> set[str]:
    """The caches ``strip`` has made so far (all of them when install() left Strip alone)."""
    made = set()
    for name in CACHES:
        slot = _slots.get(name)
        try:
            if slot is not None:
                slot.__get__(strip, Strip)  # type: ignore[attr-defined]
            made.add(name)
        except AttributeError:
            pass
    return made
