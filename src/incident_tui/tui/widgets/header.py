"""The top line: how many incidents are active and the worst one's state, at all times."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from incident_tui.domain.models import Incident
from incident_tui.domain.times import format_duration
from incident_tui.tui.render import severity_badge, short


class StatusHeader(Static):
    """One line; the worst active incident first, the time zone, where help is.

    Its clock is its own: once a second it paints what it last showed at the host's time
    (``app.clock``), and the timer ends with the widget.
    """

    viewers = ""  # "bo, cy viewing": the others on the selected incident (team mode)

    def on_mount(self) -> None:
        self._shown: tuple[list[Incident], str, Incident | None] | None = None
        self._painted: tuple[str, list] | None = None  # the words and styles on screen
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        clock = getattr(self.app, "clock", None)
        if self._shown is not None and clock is not None:
            incidents, busy, compact_details = self._shown
            self.show(incidents, clock(), busy=busy, compact_details=compact_details)

    def show(self, incidents: list[Incident], now: datetime, *, busy: str = "",
             compact_details: Incident | None = None) -> None:
        """Line one always; on narrow screens a second line carries the selected incident's details."""
        self._shown = (incidents, busy, compact_details)
        active = [i for i in incidents if i.is_open]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" incident-tui", style="bold")
        text.append(f" · {len(active)} active", style="bold red" if active else "green")
        if active:
            worst = active[0]  # the list arrives sorted worst first
            text.append(" · ")
            text.append_text(severity_badge(worst.severity))
            text.append(f" {worst.id} {worst.stage.value}")
            if worst.is_contained and worst.contained_at is not None:
                text.append(f" · contained {format_duration(now - worst.contained_at)} ago", style="green")
            else:
                text.append(f" · {format_duration(now - worst.started_at)} uncontained", style="bold red")
        if busy:
            text.append(f"  ⠿ {busy}", style="bold magenta")
        if self.viewers:
            text.append(f" · {self.viewers}", style="bold cyan")
        right = Text(f"{now:%H:%M} {now.tzname() or ''} · ctrl+p commands · ? help ", style="dim")
        width = max(self.size.width, 40)
        pad = width - text.cell_len - right.cell_len
        if pad > 1:
            text.append(" " * pad)
            text.append_text(right)
        if compact_details is not None:
            text.append("\n")
            text.append_text(summary_line(compact_details, now))
        painted = (text.plain, text.spans)
        if painted == self._painted:
            return  # most ticks: the clocks read as they did (minutes), nothing to paint
        self.update(text, layout=False)  # fixed height: no screen-wide relayout per clock tick
        self._painted = painted

    def update(self, content="", *, layout: bool = True) -> None:
        self._painted = None  # a line set from outside show (opening, waiting): the next show paints
        super().update(content, layout=layout)


def summary_line(incident: Incident, now: datetime) -> Text:
    """The details box folded into one line for 80 columns."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f" {short(incident.prompt_id)} v{incident.prompt_version if incident.prompt_version is not None else '?'}",
                style="cyan")
    if incident.detection_gap is not None:
        line.append(f" · gap {format_duration(incident.detection_gap)}", style="yellow")
    if incident.is_contained:
        line.append(f" · contained ({incident.containment.value if incident.containment else ''})", style="green")
    elif incident.is_open:
        line.append(" · NOT contained", style="bold red")
    line.append(f" · {incident.category.label if incident.category else 'not triaged (t)'}")
    line.append(f" · cmdr {short(incident.commander) or '—'}")
    return line
