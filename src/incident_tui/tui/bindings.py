"""Keys are data: every action's default key, its id (for remapping in the config file) and its words.

The same list feeds the app's bindings, the footer, the `?` screen and the command palette.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    id: str
    key: str
    action: str
    description: str
    help: str
    group: str
    show: bool = True


KEYS: tuple[Key, ...] = (
    # the outage
    Key("note", "n", "note", "note", "Write a note (a leading 14:32 or -5m backdates it)", "Respond"),
    Key("note.alt", "i", "note", "note", "Write a note (works in every pane, also the diff)", "Respond"),
    Key("star", "asterisk", "star", "star", "Star / unstar the selected timeline event for the postmortem", "Respond"),
    Key("advance", "a", "advance", "advance", "Advance to the next stage (explains the contain-first rule)", "Respond"),
    Key("triage", "t", "triage", "triage", "Triage: category, who responds, playbook, hypothesis", "Respond"),
    Key("rollback", "r", "rollback", "rollback", "Roll back to the previous good version (confirms first)", "Respond"),
    Key("kill", "K", "kill_switch", "kill switch", "Use the kill switch (confirms first)", "Respond"),
    Key("milestone", "m", "milestone", "milestone", "Impact resolved, root cause, staging, promoted, close", "Respond"),
    Key("declare", "d", "declare", "declare", "Declare a new incident", "Respond"),
    # panes
    Key("pane.incidents", "1", "pane('incidents')", "incidents", "Focus the incident list", "Panes"),
    Key("pane.timeline", "2", "pane('timeline')", "timeline", "Show the timeline of the selected incident", "Panes", False),
    Key("pane.diff", "3", "pane('diff')", "diff", "Show the prompt diff: failing vs last good", "Panes"),
    Key("pane.postmortem", "4", "pane('postmortem')", "postmortem", "Show the postmortem form", "Panes"),
    Key("pane.metrics", "5", "pane('metrics')", "metrics", "Show metrics across incidents: time to detect, contain, resolve", "Panes"),
    Key("zoom", "z", "zoom", "zoom", "Maximise the focused pane (again to restore)", "Panes"),
    Key("people", "p", "people", "people", "Set commander, scribe and responders", "Edit", False),
    Key("edit", "e", "edit", "edit", "Edit the title and severity", "Edit", False),
    Key("sample", "s", "sample", "sample", "Add a failure sample (input, bad output, note)", "Edit", False),
    Key("samples", "S", "samples", "samples", "What the failure samples have in common", "Edit", False),
    Key("filter", "f", "cycle_filter", "filter", "Timeline filter: all / starred / manual", "View", False),
    Key("closed", "c", "toggle_closed", "closed", "Show / hide closed incidents", "View", False),
    Key("help", "question_mark", "help", "help", "This help", "App"),
    Key("quit", "q", "quit", "quit", "Quit (everything is already saved)", "App", False),
)


def app_bindings() -> list[Binding]:
    return [Binding(k.key, k.action, k.description, show=k.show, id=k.id, tooltip=k.help) for k in KEYS]


def key_label(key: str) -> str:
    return {"asterisk": "*", "question_mark": "?"}.get(key, key)
