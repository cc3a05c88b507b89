"""`incident-tui change add|link` and `incident-tui changes INC-ID`: what changed before impact."""

from __future__ import annotations

import click

from incident_tui.cli_common import CliContext, choice, echo_json, fail, handle_errors, parse_time_option
from incident_tui.domain.changes import ChangeKind



def _service(cli: CliContext):
    from incident_tui.services.changes import ChangeService

    return ChangeService(cli.incidents())


@click.group("change")
def change() -> None:
    """Record a change (deploy pipelines call this), or link one to an incident as a suspect."""


@change.command("add")
@click.option("--kind", required=True, type=choice(ChangeKind), help="What kind of change.")
@click.option("--summary", required=True, help="What changed, in a line.")
@click.option("--prompt", "prompt_id", help="The prompt it applies to (default: every prompt).")
@click.option("--at", "at", help="When it landed: ISO 8601, 14:32 or -2h (default: now).")
@click.option("--link", default="", help="Where to read more (an http(s) URL).")
@click.pass_obj
@handle_errors
def add(cli: CliContext, kind: str, summary: str, prompt_id: str | None, at: str | None, link: str) -> None:
    """Record a change; prints its id."""
    recorded = _service(cli).add(kind=kind, summary=summary, prompt_id=prompt_id, at=parse_time_option(at),
                                 link=link)
    click.echo(recorded.id)


@change.command("link")
@click.argument("incident_id")
@click.argument("change_id")
@click.pass_obj
@handle_errors
def link(cli: CliContext, incident_id: str, change_id: str) -> None:
    """Stamp CHANGE_ID on the incident's timeline as a suspect."""
    suspect = _service(cli).link(incident_id, change_id)
    click.echo(f"{incident_id.strip().upper()}: {suspect.change.id} linked as suspect")


@click.command("changes")
@click.argument("incident_id")
@click.option("--window", default="72h", show_default=True, help="How far before impact start to look (72h, 3d, 90m).")
@click.option("--json", "as_json", is_flag=True, help="JSON: a list of changes with before_impact and minutes.")
@click.pass_obj
@handle_errors
def changes(cli: CliContext, incident_id: str, window: str, as_json: bool) -> None:
    """The changes before impact start, closest first (suspects); those after it listed apart."""
    from datetime import timedelta

    from incident_tui.domain.changes import parse_window
    from incident_tui.domain.text import clean
    from incident_tui.domain.times import format_duration

    try:
        span = parse_window(window)
    except ValueError as exc:
        fail(str(exc))
    found = _service(cli).suspects(incident_id, span)
    if as_json:
        echo_json([s.to_json() for s in found])
        return
    before = [s for s in found if s.before_impact]
    after = [s for s in found if not s.before_impact]
    click.echo(f"suspects (changed within {window} before impact start, closest first):" if before
               else f"no change recorded within {window} before impact start")
    for s in before:
        c = s.change
        gap = format_duration(timedelta(minutes=s.minutes_before_impact))
        click.echo(f"  {c.id:<7} {c.at:%Y-%m-%d %H:%M}  {gap:>7} before  {c.kind.value:<7} "
                   f"{clean(c.summary, multiline=False)}{'  ' + clean(c.link, multiline=False) if c.link else ''}")
    if after:
        click.echo("after impact start (not causes):")
        for s in after:
            c = s.change
            click.echo(f"  {c.id:<7} {c.at:%Y-%m-%d %H:%M}  {c.kind.value:<7} {clean(c.summary, multiline=False)}")
