"""A widget whose every cell on the lines being painted is already covered is not painted at all.

Textual's compositor (8.2.8, ``Compositor._render_chops``) paints an update front to back: for
each visible widget that overlaps the bounding box of the changed regions it renders *all* the
widget's lines (from its line cache when clean), divides each line at the screen's cuts and keeps
a piece only where nothing in front has painted that cell. The containers behind the panes (the
screen, the main row, the left column, the right switcher) are covered by their children
everywhere, yet on a selection each of them is rendered and divided line by line, ~46 lines each.

:func:`_render_chops` is Textual's, with one check first: before a widget is rendered, are all
cells of its span already painted on every line this update paints? If so the widget would
contribute nothing and is skipped. Anything of it that shows (a gap between children, a border,
a line its children leave) is painted exactly as before. ``tests/tui/test_covered.py`` compares
the screens painted both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

_textual_render_chops = Compositor._render_chops


def _render_chops(self: Compositor, crop: Region, is_rendered_line: Callable[[int], bool]) -> Sequence[Mapping[int, Strip]]:
    cuts = self.cuts
    chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    crop_overlaps = crop.overlaps
    intersection = Region.intersection
    contains_region = Region.contains_region
    for widget, (region, clip) in self.visible_widgets.items():  # front to back, as Textual paints
        if not crop_overlaps(clip):
            continue
        render_region = intersection(region, clip)
        if not (render_region.width and render_region.height):
            continue
        first_cut, last_cut = render_region.column_span
        # The lines of this widget the update paints, each with its cuts, and whether any is still open.
        lines: list[tuple[int, list[int]]] = []
        open_cell = False
        for y in render_region.line_range:
            if not is_rendered_line(y):
                continue
            final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
            lines.append((y, final_cuts))
            if not open_cell:
                chops_line = chops[y]
                for cut in final_cuts[:-1]:
                    if chops_line[cut] is None:
                        open_cell = True
                        break
        if not open_cell:
            continue  # everything it would paint is covered by what is in front of it
        if contains_region(clip, region):
            strips = widget.render_lines(Region(0, 0, region.width, region.height))
        else:
            strips = widget.render_lines(Region(render_region.x - region.x, render_region.y - region.y,
                                                render_region.width, render_region.height))
        top = render_region.y
        render_x = render_region.x
        for y, final_cuts in lines:
            if y - top >= len(strips):
                break  # a widget that paints fewer lines than its region: Textual's zip stops there too
            strip = strips[y - top]
            chops_line = chops[y]
            cut_strips = strip.divide([cut - render_x for cut in final_cuts[1:]])
            for cut, piece in zip(final_cuts, cut_strips):
                if chops_line.get(cut) is None:
                    chops_line[cut] = piece
    return chops  # type: ignore[return-value]


def install() -> None:
    """Idempotent; done once by the app module."""
    Compositor._render_chops = _render_chops  # type: ignore[method-assign]


def uninstall() -> None:
    """Textual's own again (for the tests that compare the two)."""
    Compositor._render_chops = _textual_render_chops  # type: ignore[method-assign]
