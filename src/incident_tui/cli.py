"""The command line: opens the dashboard, or runs one non-interactive command.

Non-interactive commands never import textual, so alert hooks and scripts start quickly.
Output is plain text, or JSON with --json; errors are one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys

import click

from incident_tui.domain.models import DetectionMethod, Milestone, Severity, TriageCategory
from incident_tui.cli_common import (  # noqa: F401  (re-exported for command modules and tests)
    CliContext,
    OneLineGroup,
    decode_text_params,
    TextCommand,
    choice,
    default_db_path,
    echo,
    echo_json,
    fail,
    handle_errors,
    incident_json,
    parse_time_option,
)


# Commands that live in their own modules (prompt registry, exports, alert ingestion, the web view):
# name -> (module, attribute). Their modules are imported only when the command runs or help lists
# it, so `note` or `list` never pays for the diff engine, the exporters or the web server.
LAZY_COMMANDS = {
    "export": ("incident_tui.cli_export", "export"),
    "prompts": ("incident_tui.cli_prompts", "prompts"),
    "ingest": ("incident_tui.cli_alerts", "ingest"),
    "serve-webhook": ("incident_tui.cli_alerts", "serve_webhook"),
    "metrics": ("incident_tui.cli_alerts", "metrics"),
    "serve": ("incident_tui.cli_serve", "serve"),
    "samples": ("incident_tui.cli_samples", "samples"),
    "change": ("incident_tui.cli_changes", "change"),
    "changes": ("incident_tui.cli_changes", "changes"),
}


class LazyGroup(OneLineGroup):
    """A click group whose commands in :data:`LAZY_COMMANDS` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            from importlib import import_module

            module, attribute = LAZY_COMMANDS[cmd_name]
            command = getattr(import_module(module), attribute)
            decode_text_params(command)  # as OneLineGroup.main does for the commands defined here
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
# The paths stay strings here (CliContext makes Paths of them when a command wants one): a `note`
# hands the file name to the store and never imports pathlib.
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Database file.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file (TOML).")
@click.version_option(package_name="incident-tui")
@click.pass_context
def main(ctx: click.Context, db_path: str | None, config_path: str | None) -> None:
    """incident-tui: respond to LLM prompt incidents from the keyboard.

    With no command, opens the dashboard.
    """
    ctx.obj = CliContext(db_path, config_path)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        run_app(ctx.obj)


@handle_errors
def run_app(cli: CliContext, **app_kwargs) -> None:
    cli.config  # a bad config is reported before the screen switches
    from incident_tui.tui.bindings import check_keymap

    check_keymap(cli.config)  # [keys]: an unknown id or one key for two actions, named with its line
    from incident_tui.tui.app import IncidentApp

    # An already open db (the demo just seeded it) is handed over; otherwise the app opens the
    # file itself after its first frame, and a bad file comes back here as one line.
    app = IncidentApp(db=cli._db, config=cli.config, db_path=cli.db_path, **app_kwargs)
    app.run()
    if app.load_error:
        fail(app.load_error)


def warn_skipped(lines: list[str]) -> None:
    """Documents that could not be read were left out: one warning each on stderr, the rest still shown."""
    for line in lines:
        click.echo(f"incident-tui: warning: {line} (left out; fix or remove it)", err=True)


SEVERITIES = choice(Severity, case_sensitive=False)
DETECTION = choice(DetectionMethod)


@main.command()
@click.option("--title", required=True, help="What is going wrong, in a line.")
@click.option("--prompt", "prompt_id", required=True, help="The prompt id.")
@click.option("--version", "version", type=int, help="Prompt version live at the time (default: production).")
@click.option("--severity", required=True, type=SEVERITIES)
@click.option("--detected-by", required=True, type=DETECTION)
@click.option("--started-at", help="When impact started: ISO 8601, 14:32 or -15m.")
@click.option("--new-prompt", is_flag=True, help="The prompt id is not registered yet: declare it anyway.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def declare(cli: CliContext, title, prompt_id, version, severity, detected_by, started_at, new_prompt, as_json) -> None:
    """Declare an incident; prints its id.

    The prompt id must be registered (`prompts list`), unless --new-prompt says it is new.
    """
    from incident_tui.services.incidents import UnknownPromptError

    try:
        incident = cli.incidents().declare(
            title=title,
            prompt_id=prompt_id,
            version=version,
            severity=severity.upper(),
            detected_by=detected_by,
            started_at=parse_time_option(started_at),
            new_prompt=new_prompt,
        )
    except UnknownPromptError as exc:
        fail(_new_prompt_hint(exc))
    if as_json:
        echo_json(incident_json(incident))
    else:
        echo(incident.id)


@main.command(cls=TextCommand)
@click.argument("incident_id")
@click.argument("text", nargs=-1, required=True)
@click.option("--at", help="Backdate: ISO 8601, 14:32 or -5m.")
@click.option("--star", is_flag=True, help="Star it for the postmortem.")
@click.option("--before-impact", is_flag=True, help="Allow a backdated time before the impact start (a precursor).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def note(cli: CliContext, incident_id, text, at, star, as_json, before_impact=False) -> None:
    """Add a note to the timeline.

    A leading 14:32 or -5m backdates it; put text that starts with another dash after --.
    A backdated time before the incident began is refused unless --before-impact says it is meant.
    """
    from incident_tui.domain.times import BackdateError

    try:
        event = cli.incidents().note(incident_id, " ".join(text), at=parse_time_option(at), star=star,
                                     before_impact=before_impact)
    except BackdateError as exc:
        if exc.confirmable:
            raise BackdateError(f"{exc}: pass --before-impact to stamp it there anyway", confirmable=True) from None
        raise
    if as_json:
        echo_json({**event.to_dict(), "id": event.doc_id})
    else:
        echo(f"{event.at:%Y-%m-%d %H:%M} {event.text}")


@main.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include closed incidents.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def list_cmd(cli: CliContext, show_all, as_json) -> None:
    """List incidents, worst first."""
    from incident_tui.domain.text import visible
    from incident_tui.domain.times import format_duration, local_now

    service = cli.incidents()
    incidents = service.list(include_closed=show_all)
    warn_skipped(service.repo.skipped)
    if as_json:
        echo_json([incident_json(i) for i in incidents])
        return
    now = local_now()
    for i in incidents:
        version = f"v{i.prompt_version}" if i.prompt_version is not None else "v?"
        age = format_duration(now - i.started_at)
        # One incident, one line, whatever its title holds.
        prompt = f"{visible(i.prompt_id)} {version}"
        echo(f"{i.id}  {i.severity.value}  {i.stage.value:<10} {age:>8}  {prompt}  {visible(i.title)}")


@main.command()
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def show(cli: CliContext, incident_id, as_json) -> None:
    """Show one incident."""
    from incident_tui.domain.times import format_duration

    i = cli.incidents().get(incident_id)
    if as_json:
        echo_json(incident_json(i))
        return
    rows = [
        ("Incident", i.id),
        ("Title", i.title),
        ("Severity", i.severity.value),
        ("Stage", i.stage.value),
        ("Prompt", f"{i.prompt_id} v{i.prompt_version}" if i.prompt_version is not None else i.prompt_id),
        ("Detected", f"{i.detected_at.isoformat()} by {i.detected_by.label}"),
        ("Impact start", i.impact_started_at.isoformat() if i.impact_started_at else "—"),
        ("Detection gap", format_duration(i.detection_gap)),
        ("Category", i.category.label if i.category else "—"),
        ("Hypothesis", i.hypothesis or "—"),
        ("Contained", f"{i.contained_at.isoformat()} ({i.containment.value})" if i.contained_at else "no"),
        ("Root cause", i.root_cause or "—"),
        ("Commander", i.commander or "—"),
        ("Scribe", i.scribe or "—"),
        ("Responders", ", ".join(i.responders) or "—"),
        ("Duration", format_duration(i.duration)),
    ]
    for key, value in rows:
        echo(f"{key + ':':<15}{value}")


@main.command()
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def timeline(cli: CliContext, incident_id, as_json) -> None:
    """Print the incident's timeline, oldest first."""
    service = cli.incidents()
    events = service.timeline(incident_id)
    warn_skipped(service.repo.skipped)
    if as_json:
        echo_json([{**e.to_dict(), "id": e.doc_id} for e in events])
        return
    for e in events:
        star = "*" if e.starred else " "
        who = f" ({e.author})" if e.kind.manual and e.author else ""
        echo(f"{e.at:%Y-%m-%d %H:%M}{star} {e.text}{who}")


@main.command()
@click.argument("incident_id")
@click.argument("stage", required=False)
@click.option("--reason", default="", help="Override reason for the contain-first rule.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def advance(cli: CliContext, incident_id, stage, reason, as_json) -> None:
    """Move an incident to STAGE (default: the next stage)."""
    incident = cli.incidents().advance(incident_id, stage, reason=reason)
    if as_json:
        echo_json(incident_json(incident))
    else:
        echo(f"{incident.id} {incident.stage.value}")


def _new_prompt_hint(exc) -> str:
    """The refusal of an unregistered prompt id, with how to go on."""
    if exc.registry_empty:
        return (f"{exc}: add --new-prompt to use it as a new prompt, and register its versions with "
                f"`incident-tui prompts add|import-git|import-dir` so rollback can act")
    return f"{exc} (add --new-prompt if it is a new prompt)"


@main.command()
@click.argument("incident_id")
@click.argument("category", type=choice(TriageCategory))
@click.option("--hypothesis", default="", help="Root cause hypothesis.")
@click.option("--prompt", "prompt_id", help="Set the incident's prompt (e.g. one an alert left unassigned).")
@click.option("--version", "version", type=int, help="Its version (default: production).")
@click.option("--new-prompt", is_flag=True, help="The prompt id is not registered yet: use it anyway.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def triage(cli: CliContext, incident_id, category, hypothesis, prompt_id, version, new_prompt, as_json) -> None:
    """Record the triage category and hypothesis (and the prompt, with --prompt)."""
    from incident_tui.services.incidents import UnknownPromptError

    try:
        incident = cli.incidents().triage(
            incident_id, category, hypothesis, prompt_id=prompt_id, version=version, new_prompt=new_prompt
        )
    except UnknownPromptError as exc:
        fail(_new_prompt_hint(exc))
    if as_json:
        echo_json(incident_json(incident))
    else:
        echo(f"{incident.id} {incident.stage.value} {incident.category.value}")


def _report_containment(result) -> None:
    echo(result.message)
    if result.hook is not None and result.hook.tail:
        echo(f"hook output: {result.hook.tail}", err=not result.contained)
    if not result.contained:
        sys.exit(1)


@main.command()
@click.argument("incident_id")
@click.option("--to", "to_version", type=int,
              help="Registered version to roll back to (default: the last known good one).")
@click.pass_obj
@handle_errors
def rollback(cli: CliContext, incident_id, to_version) -> None:
    """Roll the prompt back and run the rollback hook."""
    _report_containment(cli.incidents().rollback(incident_id, to_version))


@main.command("kill-switch")
@click.argument("incident_id")
@click.pass_obj
@handle_errors
def kill_switch(cli: CliContext, incident_id) -> None:
    """Use the kill switch and run its hook."""
    _report_containment(cli.incidents().kill_switch(incident_id))


@main.command()
@click.argument("incident_id")
@click.argument("which", type=choice(Milestone))
@click.option("--text", default="", help="The root cause, for root-cause.")
@click.option("--version", type=int, help="Registered prompt version, for staging and promoted.")
@click.option("--yes", is_flag=True, help="Promote even though the fix was not validated (or passed too few).")
@click.pass_obj
@handle_errors
def milestone(cli: CliContext, incident_id, which, text, version, yes) -> None:
    """Stamp a milestone: impact-resolved, root-cause, staging, promoted, closed."""
    service = cli.incidents()
    manual = ""
    if which == "promoted":
        from incident_tui.services.validation import MANUAL, ValidationService

        validation = ValidationService(service)
        target = version if version is not None else service.get(incident_id).staging_version
        warning = validation.promotion_warning(incident_id, target)
        if warning and not yes:
            fail(f"{warning}: run `incident-tui validate {incident_id} --version {target}` first, or add --yes")
        manual = "" if validation.configured else f"note: {MANUAL}"
    incident = service.milestone(incident_id, which, text=text, version=version)
    echo(f"{incident.id} {which}")
    if manual:  # after the promotion: a refusal stays one line
        echo(manual, err=True)


@main.command()
@click.argument("incident_id")
@click.option("--version", type=int, required=True, help="The candidate prompt version (the fix).")
@click.pass_obj
@handle_errors
def validate(cli: CliContext, incident_id, version) -> None:
    """Run the [hooks] validate command on VERSION and the incident's failing samples; stamp its pass rate."""
    from incident_tui.services.validation import ValidationService

    result = ValidationService(cli.incidents()).validate(incident_id, version)
    echo(result.message)
    if result.rate is None:
        sys.exit(1)


@main.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Demo database file.")
@click.option("--incidents", "count", type=int, default=0, help="Also build N synthetic incidents (~50 events each).")
@click.option("--no-open", is_flag=True, help="Seed only; do not open the dashboard.")
@click.pass_obj
@handle_errors
def demo(cli: CliContext, db_path, count, no_open) -> None:
    """Seed a realistic demo database (a real prompt regression and its rollback) and open it."""
    from pathlib import Path

    from incident_tui.demo import (
        DemoError,
        default_demo_path,
        reset_demo_file,
        seed_demo,
    )

    explicit = db_path if db_path is not None else (cli.db_path if cli.db_path != default_db_path() else None)
    cli.db_path = Path(explicit) if explicit is not None else default_demo_path()
    if explicit is None:
        reset_demo_file(cli.db_path)  # the default demo file is ours: fresh data, fresh clocks
    try:
        summary = seed_demo(cli.stores(), incidents=count)
    except DemoError as exc:
        fail(f"{cli.db_path}: {exc}")
    click.echo(f"demo data in {cli.db_path}: {summary}", err=not no_open)
    if not no_open:
        run_app(cli)


if __name__ == "__main__":  # pragma: no cover
    main()
