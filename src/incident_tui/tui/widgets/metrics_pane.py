"""The metrics pane: time to detect / contain / resolve (mean, median, missing), a per-week
chart of those times, counts per prompt and triage category, and open action items.

``MetricsPane(MetricsService(...), lock=app.db_lock)``: the dashboard gives it its service and
its DB lock, mounts it and calls ``refresh_metrics()`` when the data changes. Everything shown is built as rich Text from data, never markup.

The chart is drawn here rather than with Textual's Sparkline: Sparkline scales from the
smallest value (so the fastest week looks like zero), spreads the data over the widget's
width, and has no way to show a week with no data. These rows use one column per week,
scale from zero, and show "·" where nothing was measured, so missing never reads as fast.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from incident_tui.domain.metrics import (
    METRIC_LABELS,
    METRICS,
    MetricFilter,
    MetricsReport,
)
from incident_tui.domain.models import TriageCategory
from incident_tui.domain.times import format_duration
from incident_tui.services.metrics import MetricsService

BARS = "▁▂▃▄▅▆▇█"
NO_DATA = "·"
LABEL_WIDTH = 17


def bar_cells(values: Sequence[float | None]) -> list[str]:
    """One character per value, scaled from zero to the largest value; None gives "·".

    A positive value always gets at least the lowest bar, so "small" and "none" differ.
    """
    present = [v for v in values if v is not None]
    peak = max(present) if present else 0.0
    cells = []
    for value in values:
        if value is None:
            cells.append(NO_DATA)
        elif peak <= 0 or value <= 0:
            cells.append(BARS[0])
        else:
            index = max(0, min(len(BARS) - 1, round(value / peak * len(BARS)) - 1))
            cells.append(BARS[index])
    return cells


def figures_table(report: MetricsReport) -> Text:
    """Mean, median, how many incidents have the time, how many are missing it."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{'':<{LABEL_WIDTH}}{'mean':>9}{'median':>9}{'with time':>11}{'missing':>9}\n", style="dim")
    for metric in METRICS:
        stat = report.times[metric]
        text.append(f"{METRIC_LABELS[metric]:<{LABEL_WIDTH}}", style="bold")
        text.append(f"{format_duration(stat.mean):>9}")
        text.append(f"{format_duration(stat.median):>9}")
        text.append(f"{stat.count:>11}")
        text.append(f"{stat.missing:>9}", style="yellow" if stat.missing else "")
        text.append("\n")
    text.rstrip()
    return text


def weekly_chart(report: MetricsReport, weeks: int) -> Text:
    """The last ``weeks`` weeks: incidents per week, then the median of each time per week."""
    text = Text(no_wrap=True, overflow="ellipsis")
    series = report.weekly[-weeks:] if weeks > 0 else []
    if not series:
        text.append("No incidents in this period: nothing to chart.", style="dim")
        return text
    first, last = series[0].start, series[-1].start
    text.append(f"Per week, {first:%d %b} – {last:%d %b} (median; {NO_DATA} no data)\n", style="dim")
    rows: list[tuple[str, list[str], str]] = []
    counts = [float(w.incidents) if w.incidents else None for w in series]
    peak = max((w.incidents for w in series), default=0)
    rows.append(("Incidents", bar_cells(counts), f"peak {peak}"))
    for metric in METRICS:
        medians = [w.get(metric).median for w in series]
        seconds = [m.total_seconds() if m is not None else None for m in medians]
        known = [m for m in medians if m is not None]
        rows.append((METRIC_LABELS[metric], bar_cells(seconds), f"peak {format_duration(max(known))}" if known else ""))
    for label, cells, note in rows:
        text.append(f"{label:<{LABEL_WIDTH}}", style="bold")
        for cell in cells:
            text.append(cell + " ", style="dim" if cell == NO_DATA else "cyan")
        text.append(f" {note}\n", style="dim")
    text.rstrip()
    return text


def _category_label(value: str) -> str:
    try:
        return TriageCategory(value).label
    except ValueError:
        return value  # "untriaged"


def counts_text(report: MetricsReport) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    categories = {_category_label(k): v for k, v in report.per_category.items()}
    for title, data in (("Per prompt", report.per_prompt), ("Per category", categories)):
        text.append(f"{title:<{LABEL_WIDTH}}", style="bold")
        if data:
            text.append(" · ".join(f"{k} {v}" for k, v in data.items()))
        else:
            text.append("—", style="dim")
        text.append("\n")
    text.rstrip()
    return text


def actions_text(report: MetricsReport) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{'Action items':<{LABEL_WIDTH}}", style="bold")
    if not report.actions:
        text.append("none open", style="dim")
        return text
    text.append(f"{report.open_actions} open · ")
    text.append(f"{report.overdue_actions} overdue", style="bold red" if report.overdue_actions else "")
    for row in report.actions:
        text.append("\n  ")
        text.append(f"{row.owner:<{LABEL_WIDTH - 2}}")
        text.append(f"{row.open:>3} open")
        if row.overdue:
            # Colour is never the only signal: the word says it.
            text.append(f"  {row.overdue} overdue", style="bold red")
    return text


class MetricsPane(VerticalScroll):
    """Incident metrics across time, for the dashboard. ``refresh_metrics()`` recomputes."""

    DEFAULT_CSS = """
    MetricsPane { height: 1fr; padding: 0 1; }
    MetricsPane > Static { height: auto; margin-bottom: 1; }
    MetricsPane > #metrics-title { margin-bottom: 0; }
    """

    def __init__(
        self,
        service: MetricsService,
        *,
        lock: threading.RLock | None = None,
        filters: MetricFilter | None = None,
        weeks: int = 12,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.service = service
        self._given_lock = lock
        self._own_lock = threading.RLock()
        self.filters = filters or MetricFilter()
        self.weeks = weeks
        self.report: MetricsReport | None = None
        self.error: str = ""

    def compose(self) -> ComposeResult:
        yield Static(id="metrics-title")
        yield Static(id="metrics-figures")
        yield Static(id="metrics-chart")
        yield Static(id="metrics-counts")
        yield Static(id="metrics-actions")

    def on_mount(self) -> None:
        if not self.border_title:
            self.border_title = "Metrics"
        self.refresh_metrics()

    def set_filters(self, filters: MetricFilter | None) -> None:
        """Show only incidents that pass ``filters`` (None: all) and recompute."""
        self.filters = filters or MetricFilter()
        self.refresh_metrics()

    def _store_lock(self) -> threading.RLock:
        # The dashboard serialises every store access through app.db_lock; share it when present.
        return self._given_lock or getattr(self.app, "db_lock", None) or self._own_lock

    def refresh_metrics(self) -> None:
        """Read the store again and redraw. A failure is one line in the pane, never a crash."""
        try:
            with self._store_lock():
                report = self.service.report(self.filters)
                skipped = self.service.skipped
        except Exception as exc:  # a damaged store must not take the dashboard down
            self.report = None
            self.error = f"Metrics unavailable: {type(exc).__name__}: {exc}"
            self.query_one("#metrics-title", Static).update(Text(self.error, style="bold red"))
            for part in ("figures", "chart", "counts", "actions"):
                self.query_one(f"#metrics-{part}", Static).update("")
            return
        self.error = ""
        self.report = report
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"{report.incident_count} incident{'s' if report.incident_count != 1 else ''}", style="bold")
        title.append(f" · {report.filters.describe()}")
        if skipped:
            title.append(f" · {skipped} unreadable skipped", style="yellow")
        self.query_one("#metrics-title", Static).update(title)
        self.query_one("#metrics-figures", Static).update(figures_table(report))
        self.query_one("#metrics-chart", Static).update(weekly_chart(report, self.weeks))
        self.query_one("#metrics-counts", Static).update(counts_text(report))
        self.query_one("#metrics-actions", Static).update(actions_text(report))


__all__ = ["MetricsPane", "bar_cells", "figures_table", "weekly_chart"]
