"""`incident-tui samples …`: import failure (or good) samples from a file, and what the failures share."""

from __future__ import annotations

from pathlib import Path

import click

from incident_tui.cli_common import CliContext, echo_json, handle_errors


def _service(cli: CliContext):
    from incident_tui.services.samples import SampleService

    return SampleService(cli.incidents())


@click.group("samples")
def samples() -> None:
    """Failure samples: import them in bulk, see what they have in common."""


@samples.command("import")
@click.argument("incident_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--good", is_flag=True, help="These are good outputs (a baseline, e.g. from before the incident).")
@click.option("--input-field", default="input", show_default=True, help="Field (or CSV column) of the input.")
@click.option("--output-field", default="output", show_default=True, help="Field (or CSV column) of the output.")
@click.option("--note-field", default="note", show_default=True, help="Field (or CSV column) of a note.")
@click.pass_obj
@handle_errors
def import_samples(cli: CliContext, incident_id: str, file: Path, good: bool, input_field: str,
                   output_field: str, note_field: str) -> None:
    """Import FILE: JSONL (one object per line, or chat records with `messages`) or CSV with a header.

    A bad line is reported by its number and nothing of the file is written.
    """
    from incident_tui.domain.sample_files import Fields

    count = _service(cli).import_file(incident_id, file, good=good,
                                      fields=Fields(input_field, output_field, note_field))
    click.echo(f"{incident_id.strip().upper()}: imported {count} {'good' if good else 'failure'} samples")


@samples.command("common")
@click.argument("incident_id")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="JSON: outputs, inputs, failing_n, good_n.")
@click.pass_obj
@handle_errors
def common(cli: CliContext, incident_id: str, limit: int, as_json: bool) -> None:
    """Phrases the failing samples share, strongest first, for outputs and for inputs."""
    from incident_tui.domain.text import clean

    found = _service(cli).common(incident_id, limit=limit)
    if as_json:
        echo_json(found.to_json())
        return
    baseline = f"{found.good_n} good" if found.good_n else "no good baseline: ranked by how many failures share it"
    click.echo(f"{found.failing_n} failing samples, {baseline}")
    for title, rows in (("outputs", found.outputs), ("inputs", found.inputs)):
        click.echo(f"\n{title}:")
        if not rows:
            click.echo("  (nothing stands out)")
        for p in rows:
            counts = f"{p.failing}/{found.failing_n} failing"
            if found.good_n:
                counts += f", {p.good}/{found.good_n} good, log-odds {p.score:+.2f}"
            click.echo(f"  {clean(p.phrase, multiline=False)}  ({counts})")
    lengths = found.input_lengths
    if lengths is not None:
        line = f"\ninput words: failing median {lengths.failing_median:g}, p90 {lengths.failing_p90:g}"
        if lengths.good_median is not None:
            line += f"; good median {lengths.good_median:g}, p90 {lengths.good_p90:g}"
        click.echo(line)
