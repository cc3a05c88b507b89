"""Keys are data: every action's default key, its id (for remapping in the config file) and its words.

The same list feeds the app's bindings, the footer, the `?` screen and the command palette.
The panes' own keys live in their widget classes' BINDINGS; ``PANES`` names those classes, and
``pane_keys()`` reads them, so the palette, the `?` screen and the config check cannot drift
from what the keys really do.
"""

from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass
from functools import cache

from textual.binding import Binding
from textual.keys import Keys, _normalize_key_list


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


@dataclass(frozen=True)
class Pane:
    name: str  # as in the pane('…') action
    title: str
    classes: tuple[str, ...]  # "module:Class" (or "module:factory()") of every widget in it with own keys


PANES: tuple[Pane, ...] = (
    Pane("timeline", "Timeline", ("incident_tui.tui.widgets.timeline:NoteInput",
                                  "incident_tui.tui.widgets.timeline:TimelinePane")),
    Pane("diff", "Diff", ("incident_tui.tui.widgets.diff_pane:DiffPane", "incident_tui.tui.widgets.suspects:SuspectList")),
    Pane(
        "postmortem",
        "Postmortem",
        (
            "incident_tui.tui.panes:dashboard_postmortem_class()",
            "incident_tui.tui.widgets.postmortem.lists:EditableList",
            "incident_tui.tui.widgets.postmortem.lists:ActionList",
        ),
    ),
)

# Better words for the palette and the `?` screen where a footer label is too short to search.
PANE_HELP = {
    "diff.next": "Next change",
    "diff.previous": "Previous change",
    "diff.fold": "Fold / unfold unchanged lines",
    "diff.wrap": "Wrap / unwrap long lines",
    "diff.whitespace": "Show whitespace",
    "diff.ignore_whitespace": "Ignore whitespace changes",
    "diff.layout": "Layout: side-by-side / unified",
    "diff.copy": "Copy the unified diff",
    "diff.pick": "Pick any two versions to compare",
    "diff.last_good": "Back to failing vs last good",
    "postmortem.edit": "Edit the fields",
    "postmortem.next_section": "Next section",
    "postmortem.prev_section": "Previous section",
    "postmortem.copy_all": "Copy the whole document",
    "postmortem.copy_section": "Copy this section",
    "postmortem.format": "Format: markdown / text / slack / jira",
    "postmortem.export": "Export: copy or save to a file",
    "postmortem.final": "Final checklist (mark final)",
    "postmortem.reset_field": "Reset this field to its automatic value",
    "postmortem.leave_field": "Leave the field",
    "postmortem.list.add": "List: add an item",
    "postmortem.list.edit": "List: edit the item",
    "postmortem.list.delete": "List: delete the item",
    "postmortem.list.up": "List: move the item up",
    "postmortem.list.down": "List: move the item down",
    "postmortem.list.undo": "List: undo the delete",
    "postmortem.actions.waive": "Action items: waive a kind",
    "NoteInput.submit": "Note line: stamp the note",
    "NoteInput.leave": "Note line: back to the timeline (what was typed stays)",
}

# Keys Textual itself binds on every screen: no remap may take them.
RESERVED = {"ctrl+q": "quits the app", "ctrl+c": "is the terminal's interrupt", "ctrl+p": "opens the command palette"}


@dataclass(frozen=True)
class PaneKey:
    """One binding of a pane's widget, with the pane it belongs to."""

    id: str | None
    key: str
    action: str
    description: str
    show: bool
    pane: Pane
    owner: str  # the class that declares it

    @property
    def help(self) -> str:
        words = PANE_HELP.get(self.id or f"{self.owner}.{self.action}")
        return words or self.description[:1].upper() + self.description[1:]


def _load(ref: str):
    module, _, attr = ref.partition(":")
    factory = attr.endswith("()")
    obj = getattr(importlib.import_module(module), attr.removesuffix("()"))
    return obj() if factory else obj


@cache
def pane_keys() -> tuple[PaneKey, ...]:
    """Every binding the panes' own classes declare (not Textual's built-in widget keys), once per id."""
    seen: set[tuple[str, str | None, str]] = set()
    found: list[PaneKey] = []
    for pane in PANES:
        for ref in pane.classes:
            cls = _load(ref)
            for klass in reversed(cls.__mro__):
                if not klass.__module__.startswith("incident_tui."):
                    continue
                for binding in vars(klass).get("BINDINGS", ()):
                    ident = (pane.name, binding.id, binding.action if binding.id is None else "")
                    if ident in seen:
                        continue
                    seen.add(ident)
                    found.append(
                        PaneKey(binding.id, binding.key, binding.action, binding.description, binding.show,
                                pane, klass.__name__)
                    )
    return tuple(found)


@cache  # the key bar asks for every key's label on each bindings change
def key_label(key: str) -> str:
    """How a key reads on screen: "*" for asterisk, "." for full_stop, "ctrl+n" as is."""
    labels = []
    for one in key.split(","):
        *mods, base = one.strip().split("+")
        if len(base) > 1 and base not in _NAMED_KEYS:
            try:
                base = unicodedata.lookup(base.replace("_", " ").upper())
            except KeyError:
                pass
        labels.append("+".join([*mods, base]))
    return "/".join(labels)


_MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
_NAMED_KEYS = {k.value for k in Keys} | {"space", "tab", "enter", "escape", "backspace", "delete", "insert"}


def _key_name_problem(key: str) -> str | None:
    for one in key.split(","):
        parts = one.strip().split("+")
        *mods, base = parts
        if not base or any(m not in _MODIFIERS for m in mods):
            return f"{one.strip()!r} is not a key name (modifiers: {', '.join(sorted(_MODIFIERS))})"
        if len(base) == 1 or base in _NAMED_KEYS:
            continue
        try:
            unicodedata.lookup(base.replace("_", " ").upper())
        except KeyError:
            return f"{one.strip()!r} is not a key name (e.g. \"n\", \"ctrl+n\", \"f5\", \"escape\")"
    return None


# Default keys two actions share by design: check_action lets only one of them run at a time
# (enter edits the pane's fields from the pane itself, and overrides an auto field from inside).
EXCLUSIVE = {frozenset(("postmortem.edit", "postmortem.override"))}


def check_keymap(config) -> None:
    """Refuse a [keys] table that names an unknown id or gives one key two actions (ConfigError).

    Two ids on one key in the same place (app-wide, or one pane's widget) is a clash; a remapped
    key that a pane also binds would be hidden in that pane, so it is refused too. The defaults'
    own overlaps (n is next change in the diff, where i writes a note) are by design.
    """
    overrides = config.keys
    if not overrides:
        return
    app_ids = {k.id: k for k in KEYS}
    panes = pane_keys()
    pane_ids = {k.id: k for k in panes if k.id}
    known = [*app_ids, *pane_ids]
    from incident_tui.config import did_you_mean

    for ident, key in overrides.items():
        if ident not in app_ids and ident not in pane_ids:
            raise config.error(
                f"keys.{ident}",
                f"unknown key id; {did_you_mean(ident, known)}the ids are in the README's key table",
            )
        problem = _key_name_problem(key)
        if problem:
            raise config.error(f"keys.{ident}", problem)

    def keys_of(ident: str, default: str) -> set[str]:
        return set(_normalize_key_list(overrides.get(ident, default)).split(","))

    def words(ident: str) -> str:
        k = app_ids.get(ident)
        what = k.description if k else pane_ids[ident].help.lower()
        return f"'{ident}'" if what == ident else f"'{ident}' ({what})"

    def action(ident: str) -> str:
        return app_ids[ident].action if ident in app_ids else f"{pane_ids[ident].owner}.{pane_ids[ident].action}"

    # scope -> {normalised key -> ids}: "app" is active everywhere, "pane:Class" while that widget has focus
    scopes: dict[str, dict[str, list[str]]] = {"app": {}}
    for k in KEYS:
        for one in keys_of(k.id, k.key):
            scopes["app"].setdefault(one, []).append(k.id)
    for pk in panes:
        if pk.id is None:
            continue
        for one in keys_of(pk.id, pk.key):
            ids = scopes.setdefault(f"{pk.pane.name}:{pk.owner}", {}).setdefault(one, [])
            if pk.id not in ids:
                ids.append(pk.id)

    def fail(ident: str, other: str, key: str, where: str = "") -> None:
        mine, theirs = (ident, other) if ident in overrides else (other, ident)
        raise config.error(
            f"keys.{mine}",
            f"{key_label(key)!r} is already the key of {words(theirs)}{where}; one key cannot do two things: "
            "give one of them another key",
        )

    for ident in overrides:
        for one in keys_of(ident, ""):
            if one in RESERVED:
                raise config.error(f"keys.{ident}", f"{key_label(one)!r} {RESERVED[one]}: pick another key")
    for scope in scopes.values():
        for one, ids in scope.items():
            for other in ids[1:]:
                if frozenset((ids[0], other)) in EXCLUSIVE and ids[0] not in overrides and other not in overrides:
                    continue
                if action(other) != action(ids[0]):  # note and note.alt may share a key
                    fail(ids[0], other, one)
    # Scopes active together: the app's and any pane's, and a pane's own widgets with each other.
    names = list(scopes)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            pane = second.split(":")[0]
            if first != "app" and first.split(":")[0] != pane:
                continue
            pane_bound = {one for name, scope in scopes.items() if name.startswith(pane + ":") for one in scope}
            for one in scopes[first].keys() & scopes[second].keys():
                for a in scopes[first][one]:
                    for b in scopes[second][one]:
                        if a not in overrides and b not in overrides:
                            continue  # the defaults' overlaps are by design
                        if first == "app" and _still_reachable(a, pane_bound, keys_of):
                            continue  # n is next change in the diff: the note is still on i there
                        title = next(p.title for p in PANES if p.name == pane)
                        fail(a, b, one, f" in the {title.lower()} pane")


def _still_reachable(app_id: str, pane_bound: set[str], keys_of) -> bool:
    """Another key for the same app action that the pane leaves free."""
    action = next(k.action for k in KEYS if k.id == app_id)
    others = {one for k in KEYS if k.action == action and k.id != app_id for one in keys_of(k.id, k.key)}
    return bool(others - pane_bound)
