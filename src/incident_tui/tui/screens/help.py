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

# Keys of Textual's own widgets (no binding of ours): how to move around the panes.
MOVES = {
    "incidents": [("↑ ↓ / j k", "Move"), ("enter", "Open its timeline")],
    "timeline": [("↑ ↓", "Move"), ("enter / v", "The event's whole text")],
    "postmortem": [("enter", "On an auto field: override it (edited ✎); ctrl+r: back to auto"),
                   ("esc", "Leave the field (it is saved as you type)")],
}
PANE_TITLES = {"incidents": "Incident list", "timeline": "Timeline", "diff": "Diff", "postmortem": "Postmortem"}


def pane_sections(keymap: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Pane title → (key, what) for every key of every pane, as remapped: read from the bindings."""
    from incident_tui.tui.bindings import KEYS, pane_keys

    def key_of(ident: str | None, default: str) -> str:
        return key_label(keymap.get(ident, default) if ident else default)

    pane_number = {k.action.split("'")[1]: key_of(k.id, k.key) for k in KEYS if k.action.startswith("pane(")}
    sections: dict[str, list[tuple[str, str]]] = {}
    for name, title in PANE_TITLES.items():
        sections[f"{title} ({pane_number.get(name, '')})"] = list(MOVES.get(name, []))
    for k in pane_keys():
        title = f"{k.pane.title} ({pane_number.get(k.pane.name, '')})"
        sections.setdefault(title, []).append((key_of(k.id, k.key), k.help))
    # The note works from every pane, on the note keys the pane does not take for itself (i in the diff).
    note = [key_of(k.id, k.key) for k in KEYS if k.action == "note"]
    for title in sections:
        if title.startswith(("Timeline", "Diff")):
            taken = {key for key, _ in sections[title]}
            sections[title].append((" / ".join(key for key in note if key not in taken), "Write a note"))
    return sections


class HelpScreen(Dialog[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "close")]

    def __init__(self, keymap: dict[str, str] | None = None) -> None:
        super().__init__(classes="form-screen")
        self.keymap = keymap or {}
        if self.keymap.get("help"):  # the key that opened it closes it, remapped or not
            self._bindings.bind(self.keymap["help"], "close", "close", show=False)

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
        for pane, keys in pane_sections(self.keymap).items():
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
