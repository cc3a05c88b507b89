"""The wrapped diff, read back from a real terminal (tmux capture-pane) and reassembled.

Nothing may go missing at a wrap point, in either column, at any width: every line the
diff pane shows is rebuilt from the screen (gutters, markers, "↪" stripped, parts joined)
and compared with the prompt file, byte for byte.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from diff_screen import NEW, OLD, Reassembler, expected_lines, number_width, separator_column

from incident_tui.domain.diff import visible

pytestmark = pytest.mark.e2e


def diff_area(screen: str) -> tuple[list[str], list[str]]:
    """The diff pane's header lines and its text area (border and scrollbar cut off)."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if "─ 3 Diagnose" in line)
    left = lines[top].rindex("╭", 0, lines[top].index("─ 3 Diagnose"))
    right = lines[top].index("╮", left)
    interior = []
    for line in lines[top + 1 :]:
        if line[left:].startswith("╰"):
            break
        interior.append(line[left + 1 : right])
    # The header (two lines or more, it wraps) ends where the folded diff begins.
    header_end = next(i for i, line in enumerate(interior) if "unchanged lines" in line)
    body = [line[:-2] for line in interior[header_end:]]  # the scrollbar's two cells
    return interior[:header_end], [line for line in body if line.strip()]


def drawn_at(screen: str, width: int | None) -> bool:
    """Whether the app has drawn this screen for a window ``width`` columns wide.

    Right after a resize tmux shows the previous frame cut or padded to the new width; only
    a frame the app drew for it has a pane's bottom-right corner in the last column.
    """
    return width is None or any(len(line) == width and line.endswith("╯") for line in screen.splitlines())


def settled(terminal, text: str, width: int | None = None) -> str:
    """The screen once it shows `text`, is drawn for `width` columns and has stopped changing."""
    screen = terminal.wait_for(text)
    for _ in range(100):
        time.sleep(0.1)
        again = terminal.screen()
        if again == screen and drawn_at(screen, width):
            return screen
        screen = again
    return screen


def check(screen: str, *, split: bool, old: str, new: str) -> None:
    header, body = diff_area(screen)
    flags = " ".join(line.strip() for line in header)
    assert "change 1 of 1" in flags and "wrap" in flags
    assert ("side by side" if split else "unified") in flags
    rebuilt = Reassembler(split=split, num_w=number_width(old, new), wrapped=True)
    separator = separator_column(body) if split else None
    try:
        for line in body:
            rebuilt.feed(line, 0, separator)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{screen}") from None
    shown = rebuilt.lines
    files = {OLD: expected_lines(old, visible), NEW: expected_lines(new, visible)}
    for (side, n), text in shown.items():
        assert text == files[side][n], f"{side} line {n}:\n  file:   {files[side][n]!r}\n  screen: {text!r}"
    # The change itself is on screen, whole: v21's security rules, v20's two lines.
    assert {(NEW, n) for n in range(65, 77)} | {(OLD, 65), (OLD, 66)} <= set(shown)
    if split:  # both columns wrapped somewhere
        assert any("↪" in line[:separator] for line in body) and any("↪" in line[separator:] for line in body)
    else:
        assert any("↪" in line for line in body)


def test_wrapped_diff_reads_back_whole_from_tmux(terminal, run_cli, openhands_history):
    env = terminal.env
    assert run_cli(env, "prompts", "import-dir", str(openhands_history), "--prompt", "codeact").returncode == 0
    declared = run_cli(
        env, "declare", "--title", "agent leaks tokens", "--prompt", "codeact", "--version", "21",
        "--severity", "p2", "--detected-by", "manual",
    )
    assert declared.returncode == 0, declared.stderr
    old, new = (openhands_history / "v20.j2").read_text(), (openhands_history / "v21.j2").read_text()

    terminal.start("main", [str(Path(sys.executable).parent / "incident-tui")], size=(120, 70))
    terminal.wait_for("1 active")
    terminal.keys("3")
    terminal.wait_for("v20 (last good) → v21 (failing)")
    for width in (120, 200, 80):
        terminal.tmux("resize-window", "-t", "e2e:main", "-x", str(width), "-y", "70")
        screen = settled(terminal, "change 1 of 1", width)
        split = "side by side" in screen
        check(screen, split=split, old=old, new=new)
        terminal.keys("u")  # the other layout, on the first press
        terminal.wait_for("unified" if split else "side by side")
        terminal.wait_for("layout: ")
        terminal.wait_for("layout: ", gone=True)  # the toast covers text
        check(settled(terminal, "change 1 of 1", width), split=not split, old=old, new=new)
        terminal.keys("u")
        terminal.wait_for("side by side" if split else "unified")
        terminal.wait_for("layout: ")
        terminal.wait_for("layout: ", gone=True)
