"""``incident-tui export INC-ID``: the postmortem as markdown, text, slack or jira.

Without --output or --copy the document goes to stdout. --copy never succeeds silently: it
uses the system clipboard, else OSC 52 when stdout is a terminal (the terminal then owns the
clipboard), else it fails with one line naming what to install.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from incident_tui.cli_common import CliContext, echo, fail, handle_errors
from incident_tui.domain.export import FORMATS


@click.command("export")
@click.argument("incident_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True,
              help="Output format.")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of stdout.")
@click.option("--copy", "copy", is_flag=True,
              help="Copy to the clipboard (system clipboard, else OSC 52 on a terminal).")
@click.pass_obj
@handle_errors
def export(cli: CliContext, incident_id: str, fmt: str, output: Path | None, copy: bool) -> None:
    """Export the postmortem of INCIDENT_ID."""
    from incident_tui.services.postmortem import PostmortemService, write_atomically

    text = PostmortemService(cli.open_db(), cli.incidents()).render(incident_id, fmt)
    incident_id = incident_id.strip().upper()
    if output is not None:
        write_atomically(output, text)
        click.echo(f"wrote {output}", err=True)
    if copy:
        _copy(text, f"{incident_id} postmortem ({fmt})")
    if output is None and not copy:
        click.echo(text, nl=False)


def _copy(text: str, what: str) -> None:
    from incident_tui.services.clipboard import copy_text, osc52

    result = copy_text(text)
    if result.ok:
        echo(f"copied {what} to the clipboard with {result.method}", err=True)
        return
    if sys.stdout.isatty():
        sys.stdout.write(osc52(text))
        sys.stdout.flush()
        echo(
            f"sent {what} to the terminal's clipboard with OSC 52 ({result.message}); "
            "if nothing pastes, your terminal blocks OSC 52: use --output FILE",
            err=True,
        )
        return
    fail(f"cannot copy {what}: {result.message}; or use --output FILE")
