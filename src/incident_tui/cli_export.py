"""``incident-tui export INC-ID``: the postmortem as markdown, text, slack or jira.

Without --output or --copy (or with --output -) the document goes to stdout. --output never
replaces an existing file without --force, and never replaces a device or a FIFO (it writes into
them). --copy never succeeds silently: it
uses the system clipboard, else OSC 52 when stdout is a terminal (the terminal then owns the
clipboard), else it fails with one line naming what to install.
"""

from __future__ import annotations

import sys

import click

from incident_tui.cli_common import CliContext, echo, fail, handle_errors
from incident_tui.domain.export import FORMATS


@click.command("export")
@click.argument("incident_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True,
              help="Output format.")
@click.option("--output", "output", type=click.Path(allow_dash=True),
              help="Write to FILE ('-': stdout). A device or FIFO is written into; a file is written atomically.")
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
@click.option("--copy", "copy", is_flag=True,
              help="Copy to the clipboard (system clipboard, else OSC 52 on a terminal).")
@click.pass_obj
@handle_errors
def export(cli: CliContext, incident_id: str, fmt: str, output: str | None, force: bool, copy: bool) -> None:
    """Export the postmortem of INCIDENT_ID."""
    from incident_tui.services.postmortem import PostmortemService

    text = PostmortemService(cli.stores(), cli.incidents()).render(incident_id, fmt)
    incident_id = incident_id.strip().upper()
    to_stdout = output == "-" or (output is None and not copy)
    if output is not None and output != "-":
        from incident_tui.services.files import OutputExists, write_output  # tempfile, pathlib: for a file only

        try:
            write_output(output, text, replace=force)
        except OutputExists as exc:
            fail(f"{exc}; --force replaces it")
        echo(f"wrote {output}", err=True)
    if copy:
        _copy(text, f"{incident_id} postmortem ({fmt})")
    if to_stdout:
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
