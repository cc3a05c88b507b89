"""`incident-tui serve`: the dashboard in a browser for responders on other machines (team mode)."""

from __future__ import annotations

import click

from incident_tui.cli_common import CliContext, fail, handle_errors


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.pass_obj
@handle_errors
def serve(cli: CliContext, host: str, port: int) -> None:
    """Serve the dashboard over HTTP: one app per browser tab, on this DB, behind a per-start token.

    Prints the URL to open (with the token) as the first line. Add &user=NAME to the URL to
    name the responder of a tab; INCIDENT_TUI_SERVE_TOKEN fixes the token instead of a random one.
    """
    cli.config  # a bad config is reported here, not in every tab
    cli.open_db()  # so is a bad database file
    cli.close()  # each tab opens it for itself
    try:
        from incident_tui.serve import TeamServer, token_from_env
    except ImportError as exc:  # pragma: no cover - a broken install
        fail(f"team mode needs textual-serve: {exc}")
    db_path = cli.db_path.resolve()
    config_path = cli.config_path.resolve() if cli.config_path is not None else None
    server = TeamServer(db_path=db_path, config_path=config_path, host=host, port=port, token=token_from_env())
    server.serve()
