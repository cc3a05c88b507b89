"""`incident-tui prompts …`: import prompt versions, list them, diff two of them.

Scripts call these, so this module never imports textual (startup stays fast). The main
CLI sets `ctx.obj` to an object whose `.stores()` returns the database's repositories (or whose
`.open_db()` returns the database), and owns closing it.
"""

from __future__ import annotations

import json
import shutil
import sys
import unicodedata
from pathlib import Path
from typing import Any

import click

from incident_tui.cli_common import choice, echo, handle_errors
from incident_tui.domain.diff import (
    DELETE,
    EQUAL,
    INSERT,
    DiffResult,
    diff_to_json,
    fold_rows,
    split_eol,
    visible,
    wrap_points,
)
from incident_tui.domain.prompts import LABELS, PromptError, PromptVersion
from incident_tui.domain.text import json_safe, neutralise
from incident_tui.services.prompts import PromptService



def _service(obj: Any) -> PromptService:
    if obj is None or not hasattr(obj, "open_db"):
        raise PromptError("no database: run this as `incident-tui prompts …`")
    stores = getattr(obj, "stores", None)
    return PromptService(stores() if callable(stores) else obj.open_db())


def _range(added: list[PromptVersion]) -> str:
    if len(added) == 1:
        return f"v{added[0].version}"
    return f"v{added[0].version}–v{added[-1].version}"


def _report_import(prompt_id: str, added: list[PromptVersion]) -> None:
    if added:
        noun = "version" if len(added) == 1 else "versions"
        echo(f"{prompt_id}: added {len(added)} {noun} ({_range(added)})")
    else:
        echo(f"{prompt_id}: nothing new")


@click.group("prompts")
def prompts() -> None:
    """Prompt versions: import, list and diff them."""


@prompts.command("import-git")
@click.argument("repo", type=click.Path(file_okay=False, path_type=Path))
@click.argument("file")
@click.option("--prompt", "prompt_id", required=True, help="Prompt id to register the versions under.")
@click.pass_obj
@handle_errors
def import_git(obj: Any, repo: Path, file: str, prompt_id: str) -> None:
    """Register every commit of REPO that changed FILE, oldest first (follows renames)."""
    _report_import(prompt_id, _service(obj).import_git(repo, file, prompt_id))


@prompts.command("import-dir")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--prompt", "prompt_id", required=True, help="Prompt id to register the versions under.")
@click.option("--glob", "pattern", default=None, help="Which files (default: versions.tsv if present, else the most common suffix).")
@click.pass_obj
@handle_errors
def import_dir(obj: Any, directory: Path, prompt_id: str, pattern: str | None) -> None:
    """Register the files of DIRECTORY as versions, in natural sort order (v2 before v10)."""
    _report_import(prompt_id, _service(obj).import_dir(directory, prompt_id, pattern))


@prompts.command("add")
@click.argument("prompt_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--author", default=None, help="Who wrote this version.")
@click.option("--note", default=None, help="What changed and why.")
@click.pass_obj
@handle_errors
def add(obj: Any, prompt_id: str, file: Path, author: str | None, note: str | None) -> None:
    """Register FILE as the next version of PROMPT_ID if its text changed."""
    service = _service(obj)
    version = service.add(prompt_id, file, author=author, note=note)
    if version is None:
        latest = service.latest(prompt_id)
        echo(f"{prompt_id}: unchanged (same text as v{latest.version if latest else '?'})")
    else:
        echo(f"{prompt_id} v{version.version}")


@prompts.command("label")
@click.argument("prompt_id")
@click.argument("version", type=int)
@click.argument("label", type=choice(LABELS))
@click.option("--why", default="", help="Why the label moves (kept in the audit trail).")
@click.option("--who", default=None, help="Who moves it (default: the config's user).")
@click.pass_obj
@handle_errors
def label(obj: Any, prompt_id: str, version: int, label: str, why: str, who: str | None) -> None:
    """Point LABEL of PROMPT_ID at VERSION (a deploy script calls this); every move is kept."""
    author = who or obj.config.author
    move = _service(obj).move_label(prompt_id, label, version, author, why or f"set by {author}")
    previous = f" (was v{move.previous_version})" if move.previous_version is not None else ""
    echo(f"{prompt_id} {label} -> v{move.version}{previous}")


@prompts.command("list")
@click.argument("prompt_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="A JSON list of version objects.")
@click.pass_obj
@handle_errors
def list_(obj: Any, prompt_id: str | None, as_json: bool) -> None:
    """List the versions of PROMPT_ID, or of every prompt."""
    service = _service(obj)
    if prompt_id is not None:
        versions = service.versions(prompt_id)
        if not versions:
            raise PromptError(f"no prompt {prompt_id!r} is registered")
        groups = {prompt_id: versions}
    else:
        groups = {s.prompt_id: service.versions(s.prompt_id) for s in service.list_prompts()}
    if as_json:
        rows = []
        for pid, versions in groups.items():
            labels = service.labels(pid)
            for v in versions:
                doc = v.summary()
                doc["labels"] = sorted(name for name, n in labels.items() if n == v.version)
                rows.append(doc)
        click.echo(json_safe(json.dumps(rows, ensure_ascii=False, indent=2)))
        return
    for pid, versions in groups.items():
        labels = service.labels(pid)
        click.echo(visible(pid))
        for v in versions:
            tags = ",".join(name for name, n in labels.items() if n == v.version)
            origin = f"git {v.commit[:10]}" if v.commit else v.source
            line = f"  v{v.version:<4} {v.created_at.isoformat()}  {origin}"
            if v.author:
                line += f"  {v.author}"
            if tags:
                line += f"  [{tags}]"
            if v.note:
                line += f"  {v.note}"
            click.echo(visible(line))


def _stdout_is_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def _write_unified(text: str) -> None:
    """A unified diff: byte-exact into a file or a pipe (for `patch`); shown safely on a terminal.

    On a terminal, escapes and other controls in prompt text or stored ids are shown visibly
    (␛, <U+202E>, a CR as ␍) and never applied; the line structure stays the diff's.
    """
    if _stdout_is_terminal():
        click.echo(neutralise(text), nl=False)
        return
    # Bytes as they are: CRs and the missing-final-newline marker must reach `patch`.
    click.echo(text.encode("utf-8", "surrogatepass"), nl=False)


def _cells(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _fit(text: str, width: int) -> str:
    """Pad or cut to exactly `width` terminal cells, marking a cut with '…'."""
    out: list[str] = []
    used = 0
    for i, ch in enumerate(text):
        w = _cells(ch)
        if used + w > width or (used + w == width and i < len(text) - 1):
            out.append("…" if used < width else "")
            used += 1
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * max(0, width - used)


# Side-by-side width when stdout is not a terminal (a pipe, a file, a CI log).
DEFAULT_WIDTH = 160


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - sum(_cells(ch) for ch in text))


def _wrapped(text: str, width: int) -> list[str]:
    points = wrap_points(text, width, _cells)
    return [text[a:b] for (a, _), (b, _) in zip(points, points[1:])]


def _side_by_side(result: DiffResult, width: int, context: int, wrap: bool = True) -> str:
    """Rows as two columns within `width` cells: each side's text wraps onto continuation
    lines marked "↪" (or, with wrap False, is cut to its column with "…")."""
    rows = result.rows
    last = max((r.left_no or 0) for r in rows) if rows else 0
    last = max([last] + [(r.right_no or 0) for r in rows])
    num = max(3, len(str(last)))
    # "NNN - text │ NNN + text": two gutters of num + 3 cells and " │ " between the columns.
    room = max(20, width - 2 * (num + 3) - 3)
    col = room // 2
    right_col = room - col
    lines = []
    for start, end, folded in fold_rows(rows, context):
        if folded:
            lines.append(f"{'⋯':>{num}}   {end - start} unchanged lines")
            continue
        for r in rows[start:end]:
            left_mark = " " if r.kind == EQUAL else ("-" if r.kind != INSERT else " ")
            right_mark = " " if r.kind == EQUAL else ("+" if r.kind != DELETE else " ")
            lno = str(r.left_no) if r.left_no is not None else ""
            rno = str(r.right_no) if r.right_no is not None else ""
            ltext = visible(split_eol(r.left_text)[0]) if r.left_text is not None else ""
            rtext = visible(split_eol(r.right_text)[0]) if r.right_text is not None else ""
            if not wrap:
                lines.append(f"{lno:>{num}} {left_mark} {_fit(ltext, col)} │ {rno:>{num}} {right_mark} {_fit(rtext, right_col)}".rstrip())
                continue
            lparts, rparts = _wrapped(ltext, col), _wrapped(rtext, right_col)
            for k in range(max(len(lparts), len(rparts))):
                lpart = lparts[k] if k < len(lparts) else ""
                rpart = rparts[k] if k < len(rparts) else ""
                lm = left_mark if k == 0 else ("↪" if k < len(lparts) else " ")
                rm = right_mark if k == 0 else ("↪" if k < len(rparts) else " ")
                ln, rn = (lno, rno) if k == 0 else ("", "")
                line = f"{ln:>{num}} {lm} {_pad(lpart, col)} │ {rn:>{num}} {rm} {rpart}"
                # A part that continues on the next line keeps its trailing spaces: they
                # are text ("solve " + "tasks"), not padding.
                lines.append(line if k + 1 < len(rparts) else line.rstrip())
    return "\n".join(lines)


def _default_width() -> int:
    if _stdout_is_terminal():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


@prompts.command("diff")
@click.argument("prompt_id")
@click.argument("v1", type=int)
@click.argument("v2", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["side-by-side", "unified", "json"]),
    default="side-by-side",
    show_default=True,
)
@click.option("--context", default=3, show_default=True, type=click.IntRange(0), help="Unchanged lines around a change.")
@click.option("--ignore-whitespace", is_flag=True, help="Lines differing only in whitespace count as equal (not for unified).")
@click.option(
    "--width",
    type=click.IntRange(40),
    default=None,
    help=f"Side-by-side width in columns: each column's text wraps to fit (see --truncate). "
    f"Default: the terminal's width, or {DEFAULT_WIDTH} when output is not a terminal.",
)
@click.option(
    "--wrap/--truncate",
    default=True,
    show_default=True,
    help="Side by side: wrap long lines onto continuation lines marked ↪, or cut them with … to fit.",
)
@click.pass_obj
@handle_errors
def diff(
    obj: Any,
    prompt_id: str,
    v1: int,
    v2: int,
    fmt: str,
    context: int,
    ignore_whitespace: bool,
    width: int | None,
    wrap: bool,
) -> None:
    """Diff versions V1 and V2 of PROMPT_ID. Unified output applies with GNU patch."""
    service = _service(obj)
    if fmt == "unified":
        if ignore_whitespace:
            raise PromptError("--ignore-whitespace would make a unified diff that does not apply; drop it")
        _write_unified(service.unified(prompt_id, v1, v2, context))
        return
    result = service.diff(prompt_id, v1, v2, ignore_whitespace=ignore_whitespace)
    if fmt == "json":
        doc = {"prompt_id": prompt_id, "old_version": v1, "new_version": v2, **diff_to_json(result)}
        click.echo(json_safe(json.dumps(doc, ensure_ascii=False)))
        return
    s = result.stats
    changes = len(result.hunks)
    click.echo(
        visible(
            f"{prompt_id} v{v1} → v{v2}: +{s.lines_added} −{s.lines_removed} lines, "
            f"{s.words_changed} words changed, {changes} change{'s' if changes != 1 else ''}"
        )
    )
    if result.identical:
        click.echo("identical" + (" (ignoring whitespace)" if ignore_whitespace else ""))
        return
    click.echo(_side_by_side(result, width or _default_width(), context, wrap))
