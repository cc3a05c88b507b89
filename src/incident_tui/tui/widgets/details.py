"""The details box under the list: stage track, times, people, triage and its playbook."""

from __future__ import annotations

from datetime import datetime

from rich.style import Style as RichStyle
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual, visualize
from textual.widgets import Static

from incident_tui.domain.models import Incident
from incident_tui.domain.playbooks import Playbook
from incident_tui.tui.render import details
from incident_tui.tui.widgets.line_runs import paint_runs, paints_by_runs, text_runs

EMPTY = Text("No incident selected. Press d to declare one.", style="dim")


class DetailsPanel(Static):
    """Its clock is its own: the elapsed times move once a second while it is shown.

    Painted line by line: each line of the facts is wrapped and painted once and kept while its
    words stay the same, and a new incident (or a tick) repaints only the lines that read
    differently. The stage track, the playbook and most of a tick's lines stay put.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._text: Text = Text()
        self._painted: list[Strip] | None = None  # this text's lines at _painted_width
        self._painted_width = -1
        self._line_strips: LRUCache[tuple, list[Strip]] = LRUCache(64)
        self._run_styles: dict[tuple[Style, str], RichStyle] = {}

    def on_mount(self) -> None:
        self._shown: tuple[Incident | None, Playbook | None] | None = None
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        clock = getattr(self.app, "clock", None)
        if self._shown is not None and clock is not None and self.display:  # folded into the header when narrow
            self.show(self._shown[0], clock(), self._shown[1])

    def show(self, incident: Incident | None, now: datetime, playbook: Playbook | None) -> None:
        self._shown = (incident, playbook)
        self.set_text(EMPTY if incident is None else details(incident, now, playbook))

    def set_text(self, text: Text) -> None:
        """Show ``text``; only the lines that changed are painted again."""
        if (self._painted is not None and text.plain == self._text.plain and text.spans == self._text.spans
                and text.style == self._text.style):
            return  # a clock tick that changed no word (most of them): nothing to lay out or paint
        before = self._painted
        self._text = text
        self._painted = None
        if before is None or not self.is_mounted or self.size.width != self._painted_width:
            self.refresh()
            return
        after = self._lines()
        if len(after) != len(before):
            self.refresh()
            return
        width = self.size.width
        for y, (old, new) in enumerate(zip(before, after)):
            if old is not new:
                self.refresh(Region(0, y, width, 1))

    def render(self) -> Text:
        return self._text

    def notify_style_update(self) -> None:
        self._line_strips.clear()
        self._run_styles.clear()
        self._painted = None
        super().notify_style_update()

    def _lines(self) -> list[Strip]:
        """Every painted line of the text at the current width (what Static would paint, line by line)."""
        width = self.size.width
        if self._painted is not None and self._painted_width == width:
            return self._painted
        style = self.visual_style
        # A line that fits, in plain left-aligned words, is painted from its runs (line_runs.py), as
        # Content would paint it; any other line (wrapped, a tab, text being selected) through Content.
        by_runs = paints_by_runs(self)
        lines: list[Strip] = []
        for line in self._text.split("\n", allow_blank=True):
            key = (line.plain, tuple(line.spans), line.style, width, style)
            strips = self._line_strips.get(key)
            if strips is None:
                runs = text_runs(line) if by_runs and line.cell_len <= width else None
                if runs is not None:
                    strips = [paint_runs(self.app, style, runs, self._run_styles)]
                else:
                    visual = visualize(self, line, markup=False)
                    strips = Visual.to_strips(self, visual, width, None, style)
                self._line_strips[key] = strips
            lines.extend(strips)
        self._painted, self._painted_width = lines, width
        return lines

    def render_line(self, y: int) -> Strip:
        lines = self._lines()
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self.visual_style.rich_style)
