"""`prompts diff --width`: both columns of the side-by-side output fit, nothing is lost."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from diff_screen import NEW, OLD, Reassembler, expected_lines, number_width

from incident_tui.cli_prompts import DEFAULT_WIDTH, prompts
from incident_tui.domain.diff import char_cells, visible
from incident_tui.store.storage import open_db


class Obj:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = None

    def open_db(self):
        if self.db is None:
            self.db = open_db(self.path)
        return self.db

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


@pytest.fixture
def run(tmp_path, openhands_history):
    db_path = tmp_path / "incidents.json"

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = Obj(db_path)
        ctx.call_on_close(ctx.obj.close)

    root.add_command(prompts)
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(root, ["prompts", *map(str, args)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    invoke("import-dir", openhands_history, "--prompt", "oh")
    return invoke


def cells(line: str) -> int:
    return sum(char_cells(ch) for ch in line)


def rows(output: str) -> list[str]:
    """The side-by-side rows: the summary line first, then rows and folds."""
    return output.splitlines()[1:]


def reassemble(lines: list[str], num_w: int) -> dict[tuple[str, int], str]:
    # The columns meet at " │ "; the screen reader wants them to meet at "│".
    separator = next(line.index(" │ ") for line in lines if " │ " in line)
    rebuilt = Reassembler(split=True, num_w=num_w, wrapped=True)
    for line in lines:
        line = line.ljust(separator + 3)
        assert line[separator : separator + 3] == " │ ", line
        rebuilt.feed(line[:separator] + "│" + line[separator + 3 :], 0, separator)
    return rebuilt.lines


@pytest.mark.parametrize("width", [40, 80, 120, 200])
@pytest.mark.parametrize(("v1", "v2"), [(20, 21), (1, 24)])
def test_both_columns_fit_the_width_and_read_back_whole(run, width, v1, v2, openhands_history):
    out = run("diff", "oh", v1, v2, "--width", width, "--context", 10_000).stdout
    lines = rows(out)
    assert max(cells(line) for line in lines) <= width
    old = (openhands_history / f"v{v1:02}.j2").read_text()
    new = (openhands_history / f"v{v2:02}.j2").read_text()
    shown = reassemble(lines, number_width(old, new))
    for side, text in ((OLD, old), (NEW, new)):
        expected = expected_lines(text, visible)
        got = {n: line for (s, n), line in shown.items() if s == side}
        assert got == expected


def test_width_120_wraps_the_right_column_it_used_to_leave_321_wide(run):
    lines = rows(run("diff", "oh", 20, 21, "--width", 120).stdout)
    assert max(len(line) for line in lines) == 120  # a wrapped part fills its column
    assert any("│     ↪ " in line for line in lines)  # the right column wraps too


def test_truncate_cuts_each_column_with_an_ellipsis(run):
    lines = rows(run("diff", "oh", 20, 21, "--width", 80, "--truncate").stdout)
    assert max(cells(line) for line in lines) <= 80
    assert not any("↪" in line for line in lines)
    cut = [line for line in lines if "Apply least privilege" in line]
    assert len(cut) == 1 and cut[0].endswith("…")


def test_default_width_off_a_terminal_is_fixed(run):
    lines = rows(run("diff", "oh", 1, 24).stdout)
    assert max(cells(line) for line in lines) == DEFAULT_WIDTH


def test_wide_characters_wrap_whole_within_the_width(run, tmp_path):
    old = tmp_path / "old.txt"
    new = tmp_path / "new.txt"
    old.write_text("ab" + "漢字かな" * 30 + "\n" + "tab\there " + "😀" * 40 + "\n")
    new.write_text("ab" + "漢字カナ" * 30 + "\n" + "tab\there " + "🎉" * 41 + "\n")
    run("add", "wide", old)
    run("add", "wide", new)
    lines = rows(run("diff", "wide", 1, 2, "--width", 61).stdout)
    assert max(cells(line) for line in lines) <= 61
    columns = [line.split(" │") for line in lines]
    assert all(len(c) == 2 for c in columns)
    left = "".join(c[0][6:].rstrip() for c in columns)
    right = "".join(c[1][7:].rstrip() for c in columns)
    assert left == visible(old.read_text().replace("\n", ""))
    assert right == visible(new.read_text().replace("\n", ""))
    assert sum("↪" in c[0] for c in columns) >= 2 and sum("↪" in c[1] for c in columns) >= 2
