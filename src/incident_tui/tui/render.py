"""How incidents and events look: rich Text built from data, never from markup strings."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.text import Text

from incident_tui.domain.models import (
    STAGE_ORDER,
    EventKind,
    Incident,
    Severity,
    Stage,
    TimelineEvent,
)
from incident_tui.domain.playbooks import Playbook
from incident_tui.domain.text import clean, neutralise
from incident_tui.domain.times import format_duration

# What one row or line shows of a long text; enter (or v) on a timeline event shows all of it. Cut at
# render time, not only at write, so a database written before the size limits still paints at once.
PREVIEW_LINES = 4
PREVIEW_CHARS = 400
LINE_CHARS = 300  # a title, a prompt id, a name: on a row that is cut to the width anyway
VIEW_ALL = " … (enter to view all)"

SEVERITY_STYLE = {Severity.P1: "bold white on red", Severity.P2: "bold black on dark_orange", Severity.P3: "bold black on yellow"}
EVENT_MARK = {
    EventKind.NOTE: ("◆", "cyan"),
    EventKind.IMPACT_START: ("◦", "red"),
    EventKind.DETECTION: ("●", "bold"),
    EventKind.CONTAINMENT: ("●", "green"),
    EventKind.HOOK: ("⚙", "magenta"),
    EventKind.OVERRIDE: ("!", "bold yellow"),
    EventKind.ALERT: ("⚑", "red"),
}


def preview(text: str, *, lines: int = PREVIEW_LINES, chars: int = PREVIEW_CHARS) -> tuple[str, bool]:
    """The head of ``text``: at most ``lines`` lines and ``chars`` characters; and whether it was cut.

    Looks at no more than ``chars`` characters, however long the text. Escapes go here too (what the
    services store is clean already, but a database may be older than that), and bidi overrides
    and other invisible characters are shown, not applied.
    """
    if len(text) <= chars and text.isascii() and text.isprintable():
        # Printable ASCII (most notes): nothing to clean or show, and one line. The same answer, at
        # a fraction of the cost, for the ~50 events a selection lays out.
        return text, False
    return cleaned_preview(text, lines=lines, chars=chars)


def cleaned_preview(text: str, *, lines: int = PREVIEW_LINES, chars: int = PREVIEW_CHARS) -> tuple[str, bool]:
    """``preview`` for any text: cleaned, invisible characters shown, cut to ``lines`` and ``chars``."""
    head = neutralise(clean(text[:chars]))
    parts = head.split("\n", lines)
    if len(parts) > lines:
        head = "\n".join(parts[:lines])
    cut = len(text) > chars or len(parts) > lines
    return (head.rstrip() if cut else head), cut


def short(text: str, chars: int = LINE_CHARS) -> str:
    """One line of at most ``chars`` characters (an ellipsis where cut), for names and titles."""
    if len(text) <= chars and text.isascii() and text.isprintable() and text == text.strip():
        return text  # printable ASCII, no spaces at either end: what the cleaning would give back
    return cleaned_short(text, chars)


def cleaned_short(text: str, chars: int = LINE_CHARS) -> str:
    """``short`` for any text: cleaned to one line, invisible characters shown, cut with an ellipsis."""
    head = neutralise(clean(text[:chars], multiline=False))
    return head if len(text) <= chars else head[: chars - 1] + "…"


def severity_badge(severity: Severity) -> Text:
    return Text(f" {severity.value} ", style=SEVERITY_STYLE[severity])


def version_label(incident: Incident) -> str:
    return f"v{incident.prompt_version}" if incident.prompt_version is not None else "v?"


def incident_row(incident: Incident, now: datetime, *, compact: bool, width: int = 0) -> Text:
    """The list row: severity, id, stage, elapsed; then prompt and title (second line unless compact).

    Each line is cut to ``width`` with an ellipsis (0 = no limit), so a long title never
    pushes a row to three lines.
    """
    row = Text()
    row.append_text(severity_badge(incident.severity))
    row.append(f" {incident.id} ", style="bold")
    row.append(f"{incident.stage.value:<10}", style="italic" if incident.is_open else "dim")
    row.append(f" {elapsed_words(incident, now):>7}", style="bold" if incident.severity is Severity.P1 and incident.is_open else "")
    if compact:
        row.append(f"  {short(incident.title)}")
        return _cut(row, width)
    second = Text("    ")
    second.append(f"{short(incident.prompt_id)} {version_label(incident)}", style="cyan")
    second.append(" · ")
    second.append(short(incident.title))
    return Text("\n").join([_cut(row, width), _cut(second, width)])


def elapsed_words(incident: Incident, now: datetime) -> str:
    """The one part of a list row that the clock moves."""
    return format_duration(now - incident.started_at) if incident.is_open else "closed"


def _cut(text: Text, width: int) -> Text:
    if width > 0 and text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    return text


def stage_track(stage: Stage) -> Text:
    """detect ● triage ● contain ◉ diagnose ○ … — shape, not only colour, tells done / now / to do."""
    text = Text()
    for s in STAGE_ORDER:
        if s.index < stage.index:
            mark, style = "●", "green"
        elif s is stage:
            mark, style = "◉", "bold yellow"
        else:
            mark, style = "○", "dim"
        text.append(f"{s.value} ", style="bold" if s is stage else ("" if s.index < stage.index else "dim"))
        text.append(mark, style=style)
        text.append(" ")
    return text


def _clock(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "—"
    local = value.astimezone(now.tzinfo)
    return f"{local:%H:%M}" if local.date() == now.date() else f"{local:%b %d %H:%M}"


def details(incident: Incident, now: datetime, playbook: Playbook | None) -> Text:
    """The facts of the selected incident, one per line, plainly worded."""
    text = Text()
    text.append_text(stage_track(incident.stage))
    text.append("\n")
    text.append(f"{short(incident.prompt_id)} {version_label(incident)}", style="cyan")
    text.append(" · ")
    text.append(short(incident.title))
    text.append("\n")
    text.append(f"impact {_clock(incident.impact_started_at, now)}")
    if incident.impact_started_at is not None and incident.is_open:
        text.append(f" ({format_duration(now - incident.impact_started_at)} ago)", style="bold")
    text.append(f" · detected {_clock(incident.detected_at, now)}")
    if incident.is_open:
        text.append(f" ({format_duration(now - incident.detected_at)} ago)", style="bold")
    text.append(f" by {incident.detected_by.label}")
    if incident.detection_gap is not None:
        text.append(f" (gap {format_duration(incident.detection_gap)})", style="yellow")
    text.append("\n")
    if incident.is_contained:
        how = incident.containment.value if incident.containment else "contained"
        to = f" → v{incident.routed_to_version}" if incident.routed_to_version is not None else ""
        text.append(f"contained {_clock(incident.contained_at, now)} ({how}{to})", style="green")
    elif incident.is_open:
        text.append("not contained", style="bold red")
    if incident.impact_resolved_at:
        text.append(f" · impact resolved {_clock(incident.impact_resolved_at, now)}", style="green")
    text.append("\n")
    text.append(f"commander {short(incident.commander) or '—'} · scribe {short(incident.scribe) or '—'}")
    if incident.responders:
        text.append(f" · {short(', '.join(incident.responders[:20]))}")
    text.append("\n")
    if incident.category:
        text.append(f"triage: {incident.category.label}", style="bold")
        if incident.hypothesis:
            text.append(f" — {_head(incident.hypothesis)}")
        text.append("\n")
    else:
        text.append("not triaged yet (t)", style="yellow")
        text.append("\n")
    if incident.contain_override:
        text.append(f"contain-first overridden: {_head(incident.contain_override)}\n", style="yellow")
    if incident.root_cause:
        text.append("root cause: ", style="bold")
        text.append(_head(incident.root_cause))
        text.append("\n")
    if playbook and incident.is_open:
        text.append(f"responds: {playbook.responders}\n", style="dim")
        for step in playbook.actions:
            text.append(f" · {step}\n", style="dim")
    text.rstrip()
    return text


def _head(text: str) -> str:
    """A long text in the details box: its head, with where the rest is (the timeline's line)."""
    head, cut = preview(text)
    return head + " … (the timeline has all of it)" if cut else head


def event_runs(event: TimelineEvent, now: datetime, *, with_date: bool) -> tuple[list[tuple[str, str]], int]:
    """A timeline line as (words, style) runs, in order, and the width of its time column (the hang).

    The one description of how an event looks: ``event_row`` makes a Text of it, the timeline
    paints it straight from the runs. Time, a marker that does not rely on colour, the words, the
    author of notes.
    """
    local = event.at.astimezone(now.tzinfo)
    stamp = f"{local:%b %d %H:%M}" if with_date else f"{local:%H:%M}"
    runs = [(stamp, "dim"), (" ", "")]
    if event.starred:
        runs.append(("★", "bold yellow"))
    else:
        mark, style = EVENT_MARK.get(event.kind, ("●", ""))
        runs.append((mark, style))
    runs.append((" ", ""))
    words, cut = preview(event.text)
    if event.kind is EventKind.NOTE:
        if event.author:
            runs.append((f"{short(event.author)}: ", "bold cyan"))
        runs.append((words, ""))
    else:
        runs.append((words, "bold" if event.kind in (EventKind.CONTAINMENT, EventKind.MILESTONE) else ""))
    if cut:
        runs.append((VIEW_ALL, "dim italic"))
    if event.backdated:
        runs.append((" (backdated)", "dim italic"))
    return runs, len(stamp) + 3  # time, space, marker, space


def event_row(event: TimelineEvent, now: datetime, *, with_date: bool, width: int = 0) -> Text:
    """A timeline line as Text (see ``event_runs``).

    With ``width``, long words wrap under the text, not under the time, so the times stay a column.
    """
    runs, indent = event_runs(event, now, with_date=with_date)
    return hang(runs_text(runs), width, indent)


def runs_text(runs: list[tuple[str, str]]) -> Text:
    row = Text()
    for words, style in runs:
        row.append(words, style=style)
    return row


_MEASURE = Console(width=400, color_system=None, legacy_windows=False)


def hang(text: Text, width: int, indent: int) -> Text:
    """Wrap ``text`` to ``width`` with continuation lines indented by ``indent`` cells."""
    multiline = "\n" in text.plain
    if width <= indent + 10 or (text.cell_len <= width and not multiline):
        return text
    head, body = text.divide([indent])
    # A note written with line breaks (the CLI keeps them) hangs every line, not just wrapped ones.
    lines = [wrapped for part in body.split("\n", allow_blank=True) for wrapped in part.wrap(_MEASURE, width - indent)]
    out = Text()
    out.append_text(head)
    for n, line in enumerate(lines):
        if n:
            out.append("\n" + " " * indent)
        line.rstrip()
        out.append_text(line)
    return out


def spans_days(events: list[TimelineEvent], now: datetime) -> bool:
    days = {e.at.astimezone(now.tzinfo).date() for e in events}
    return len(days) > 1 or (bool(days) and days != {now.date()})
