"""No collector pause inside a keystroke: painted lines are freed when they are replaced (not left
as reference cycles), and full collections wait for a quiet keyboard.

Textual 8.2.8's Strip.divide caches ``[self]`` on the strip itself; the compositor divides every
line it paints, so every painted line became a cycle. tui/strips.py undoes that one case.
"""

from __future__ import annotations

import contextlib
import gc

from rich.segment import Segment
from textual.strip import Strip

import incident_tui.tui.app  # noqa: F401  (installs the fix, as the dashboard does)
from incident_tui.tui.idle_gc import QUIET_FOR


@contextlib.contextmanager
def garbage_left():
    """Yields a list that, after the block, holds what only the collector would have freed of what
    the block built and dropped."""
    found: list[object] = []
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found += gc.garbage
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        if enabled:
            gc.enable()


def test_a_strip_divided_at_its_own_length_is_freed_by_reference_counting():
    def divide():
        strip = Strip([Segment("hello "), Segment("world")], 11)
        assert strip.divide([11]) == [strip]
        assert strip.divide([11, 20]) == [strip]  # a cut past the end is dropped, as Textual drops it
        halves = strip.divide([5, 11])
        assert [half.text for half in halves] == ["hello", " world"]
        assert strip.divide([5, 11]) is halves  # other divisions are still cached

    with garbage_left() as found:
        divide()
    assert found == []


def test_a_strip_cropped_to_itself_is_freed_by_reference_counting():
    def crop():
        strip = Strip([Segment("hello "), Segment("world")], 11)
        assert strip.crop_extend(0, 11, None) is strip
        longer = strip.crop_extend(0, 14, None)
        assert longer.text == "hello world   " and strip.crop_extend(0, 14, None) is longer  # still cached
        assert strip.crop_extend(6, 11, None).text == "world"

    with garbage_left() as found:
        crop()
    assert found == []


async def test_moving_through_the_incidents_leaves_no_painted_line_to_the_collector(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()

        with garbage_left() as found:
            # The list's cursor, the panes following it: widgets repaint, none is removed (a removed
            # widget, or the style probes Textual makes when the focus moves, is a cycle of its own).
            for key in ["down"] * 3 + ["up"] * 3:
                await pilot.press(key)
                await pilot.pause()
        found = [o for o in found if isinstance(o, Strip)]
        assert found == []


async def test_the_dashboard_moves_full_collections_to_quiet_moments_while_it_runs(make_app):
    before = gc.get_threshold()
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert gc.get_threshold()[2] == app.idle_gc.backstop
        await pilot.press("down")
        assert app.idle_gc.clock() - app.idle_gc.last_input < QUIET_FOR  # a key is input
    assert gc.get_threshold() == before
