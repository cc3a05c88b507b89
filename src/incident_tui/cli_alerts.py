"""CLI commands for alert ingestion, the webhook endpoint and the metrics: `ingest`,
`serve-webhook`, `metrics`. Registered on the main group in cli.py. No textual import.
"""

from __future__ import annotations

import signal
import sys

import click

from incident_tui.cli_common import (
    CliContext,
    choice,
    echo,
    echo_json,
    fail,
    handle_errors,
    parse_time_option,
    path_text,
)
from incident_tui.domain.alerts import KINDS
from incident_tui.domain.models import Severity

# Piped payloads may be a bigger batch than one HTTP notification, but are still bounded:
# a runaway pipe must not eat the machine's memory.
MAX_STDIN_BYTES = 8 * 1024 * 1024


def _read_payload(file: str | None) -> bytes:
    if file is None:
        if sys.stdin.isatty():
            fail("no payload: pipe the webhook JSON on stdin, or give --file FILE")
        data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    else:
        with open(file, "rb") as fh:
            data = fh.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        fail(f"payload is over {MAX_STDIN_BYTES // (1024 * 1024)} MiB; split it or raise max_alerts on the sender")
    return data


@click.command("ingest")
@click.argument("kind", type=choice(KINDS))
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False),  # a str: ingest never loads pathlib
              help="Read the payload from FILE instead of stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.pass_obj
@handle_errors
def ingest(cli: CliContext, kind: str, file: str | None, as_json: bool) -> None:
    """Ingest an Alertmanager or Grafana webhook payload (JSON on stdin or --file).

    Prints the incident ids created or touched, one per line. Exits 1 with one line per
    refused alert on stderr when any alert was refused (the others are still recorded).
    """
    from incident_tui.domain.alerts import PayloadError, decode_json
    from incident_tui.domain.text import visible
    from incident_tui.services.alerts import AlertService

    try:
        payload = decode_json(_read_payload(file))
    except ValueError as exc:
        fail(f"{path_text(file) if file is not None else 'stdin'}: {exc}; nothing was recorded")
    service = AlertService(cli.stores(), config=cli.config)
    try:
        report = service.ingest(kind, payload)
    except PayloadError as exc:
        fail(f"{exc}; nothing was recorded")
    if as_json:
        echo_json(report.to_dict())
    else:
        for incident_id in report.incident_ids:
            echo(incident_id)
    for warning in report.warnings:
        echo(f"incident-tui: warning: {visible(str(warning))}", err=True)
    for error in report.errors:
        echo(f"incident-tui: error: {visible(str(error))}", err=True)
    if not report.ok:
        sys.exit(1)


@click.command("serve-webhook")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --token.")
@click.option("--port", type=click.IntRange(0, 65535), default=9095, show_default=True, help="Port (0: any free one).")
@click.option("--max-bytes", type=click.IntRange(1024), default=1024 * 1024, show_default=True,
              help="Largest request body accepted.")
@click.option("--token", envvar="INCIDENT_TUI_WEBHOOK_TOKEN", show_envvar=True, default=None,
              help="Shared secret senders must send (Authorization: Bearer TOKEN, or ?token=TOKEN).")
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Threads writing alerts to the database.")
@click.pass_obj
@handle_errors
def serve_webhook(cli: CliContext, host: str, port: int, max_bytes: int, token: str | None, workers: int) -> None:
    """Accept Alertmanager / Grafana webhooks over HTTP: POST /alertmanager, /grafana or /."""
    from incident_tui.services.alerts import AlertService
    from incident_tui.services.webhook import WebhookConfigError, make_server

    service = AlertService(cli.stores(), config=cli.config)

    def log(line: str) -> None:  # the server hands over lines with controls already made visible
        click.echo(line, err=True)

    try:
        server = make_server(service, host=host, port=port, max_body=max_bytes, log=log, token=token or None,
                             workers=workers)
    except WebhookConfigError as exc:
        fail(str(exc))

    def stop(signum, frame):  # a service manager's SIGTERM (or SIGINT where a shell ignored it)
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    auth = "; token required" if token else ""
    log(f"incident-tui: listening on {server.url} (POST /alertmanager, /grafana{auth}); ctrl+c stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log("incident-tui: stopped")
    finally:
        server.server_close()


SEVERITIES = choice(Severity, case_sensitive=False)


@click.command("metrics")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--prompt", "prompt_id", help="Only incidents of this prompt id.")
@click.option("--severity", type=SEVERITIES, help="Only incidents of this severity.")
@click.option("--since", help="Only incidents detected at or after: ISO 8601 (2026-11-01), or -30d.")
@click.option("--until", help="Only incidents detected before: ISO 8601, or -7d.")
@click.pass_obj
@handle_errors
def metrics(cli: CliContext, as_json: bool, prompt_id, severity, since, until) -> None:
    """Time to detect / contain / resolve (mean, median, missing), counts, weekly series, action items."""
    from incident_tui.domain.metrics import MetricFilter
    from incident_tui.services.metrics import MetricsService

    filters = MetricFilter(
        prompt=prompt_id,
        severity=severity.upper() if severity else None,
        since=parse_time_option(since),
        until=parse_time_option(until),
    )
    report = MetricsService(cli.stores()).report(filters)
    if as_json:
        echo_json(report.to_dict())
    else:
        for line in format_report(report):
            echo(line)


def format_report(report) -> list[str]:
    """The plain-text report: one table of times, then counts, weeks and action items."""
    from incident_tui.domain.metrics import METRIC_LABELS, METRICS
    from incident_tui.domain.times import format_duration

    lines = [f"Incidents: {report.incident_count} ({report.filters.describe()})", ""]
    lines.append(f"{'':<17}{'mean':>9}{'median':>9}{'with time':>11}{'missing':>9}")
    for metric in METRICS:
        stat = report.times[metric]
        lines.append(
            f"{METRIC_LABELS[metric]:<17}{format_duration(stat.mean):>9}{format_duration(stat.median):>9}"
            f"{stat.count:>11}{stat.missing:>9}"
        )
    lines.append("")

    def counts(title: str, data: dict[str, int]) -> str:
        return f"{title}: " + (" · ".join(f"{k} {v}" for k, v in data.items()) or "—")

    lines.append(counts("Per prompt", report.per_prompt))
    lines.append(counts("Per category", report.per_category))
    lines.append(counts("Per severity", report.per_severity))
    busy = [w for w in report.weekly if w.incidents]
    if busy:
        lines.append("")
        lines.append("Week of      incidents  median detect / contain / resolve")
        for week in busy:
            medians = " / ".join(format_duration(week.get(m).median) for m in METRICS)
            lines.append(f"{week.start.isoformat()}  {week.incidents:>9}  {medians}")
        if len(busy) < len(report.weekly):
            lines.append(f"({len(report.weekly) - len(busy)} weeks without incidents not shown; --json has them)")
    lines.append("")
    if report.actions:
        lines.append(f"Action items: {report.open_actions} open, {report.overdue_actions} overdue")
        for row in report.actions:
            lines.append(f"  {row.owner:<20} {row.open:>3} open {row.overdue:>3} overdue")
    else:
        lines.append("Action items: none open")
    return lines
