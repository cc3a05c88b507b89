"""The `?` screen: every key, grouped, with the pane-only keys of the panes."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from incident_tui.tui.bindings import KEYS, key_label
from incident_tui.tui.screens.dialog import Dialog

PANE_KEYS = {
    "Incident list (1)": [("↑ ↓ / j k", "move"), ("enter", "open its timeline"), ("c", "show closed incidents")],
    "Timeline (2)": [("↑ ↓", "move"), ("*", "star for the postmortem"), ("f", "filter all / starred / manual"),
                     ("n", "note; esc leaves the note line")],
    "Diff (3)": [("n / N", "next / previous change"), ("i", "note (n is taken here)"),
                 ("see footer", "fold, wrap, whitespace, pick versions, copy")],
    "Postmortem (4)": [("see footer", "sections, lists, copy, export")],
}


class HelpScreen(Dialog[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "close")]

    def __init__(self, keymap: dict[str, str] | None = None) -> None:
        super().__init__(classes="form-screen")
        self.keymap = keymap or {}

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        group = None
        for k in KEYS:
            if k.group != group:
                group = k.group
                table.add_row(Text(""), Text(group, style="bold underline"))
            key = self.keymap.get(k.id, k.key)
            table.add_row(Text(", ".join(key_label(x) for x in key.split(","))), Text(k.help))
        for pane, keys in PANE_KEYS.items():
            table.add_row(Text(""), Text(pane, style="bold underline"))
            for key, what in keys:
                table.add_row(Text(key), Text(what))
        table.add_row(Text(""), Text(""))
        table.add_row(Text("ctrl+p"), Text("Command palette: every action by name"))
        with VerticalScroll(id="form-box"):
            yield Static(Text("Keys — esc to close", style="bold"), id="form-title")
            yield Static(table)
            yield Static(
                Text("Keys can be remapped in the config file: [keys] note = \"ctrl+n\" (ids in the README).",
                     style="dim")
            )

    def action_close(self) -> None:
        self.dismiss(None)
