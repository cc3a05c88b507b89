"""The command palette: every action of the key map and of every pane, by name, with its key.

Generated from the binding data (KEYS and the panes' own BINDINGS, see bindings.py), so a key
added to a pane is in the palette without anyone remembering to add it here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import ModalScreen
from textual.content import Content
from textual.fuzzy import Matcher

from incident_tui.tui.bindings import KEYS, PaneKey, key_label, pane_keys


@dataclass(frozen=True)
class PaletteCommand:
    name: str  # what the palette shows and matches: "Diff: Wrap / unwrap long lines (w)"
    binding_id: str
    run: Callable[[], object]


def binding_ids(node) -> set[str]:
    """The ids of the bindings a widget (or the app) has, after any remap."""
    return {b.id for bindings in node._bindings.key_to_bindings.values() for b in bindings if b.id}


def palette_commands(app) -> Iterator[PaletteCommand]:
    keymap = getattr(app, "keymap_overrides", {})
    for k in KEYS:
        if k.id == "note.alt":  # the same action as note: one entry
            continue
        key = key_label(keymap.get(k.id, k.key))
        yield PaletteCommand(f"{k.help} ({key})", k.id, partial(app.run_action, k.action))
    for pk in pane_keys():
        if pk.id is None:  # the note line's own enter / escape: typing keys, not actions
            continue
        key = key_label(keymap.get(pk.id, pk.key))
        yield PaletteCommand(f"{pk.pane.title}: {pk.help} ({key})", pk.id, partial(run_pane_action, app, pk))


async def run_pane_action(app, k: PaneKey) -> None:
    """Run a pane's action where its key would: on the focused widget that has it, else in its pane."""
    node = app.focused
    while node is not None and node is not app:
        if k.id in binding_ids(node):
            await app.run_action(k.action, node)
            return
        node = node.parent
    await app.run_action(f"pane('{k.pane.name}')")
    pane = getattr(app, "panes", {}).get(k.pane.name)
    if pane is None:
        try:
            pane = app.query_one(f"#{k.pane.name}")
        except Exception:
            return  # action_pane already said why the pane is not there
    targets = [n for n in pane.walk_children(with_self=True) if k.id in binding_ids(n)]
    if targets and targets[0] is pane:
        await app.run_action(k.action, pane)
    elif len(targets) == 1:
        targets[0].focus()
        await app.run_action(k.action, targets[0])
    elif targets:
        # Several lists could take it: acting on a guessed one (delete!) would be worse than asking.
        targets[0].focus()
        key = key_label(getattr(app, "keymap_overrides", {}).get(k.id, k.key))
        app.notify(f"{k.help}: move to the one you mean (tab) and press {key}", timeout=6, markup=False)
    else:
        app.notify(f"{k.help}: nothing here takes it yet (open an incident first)", severity="warning",
                   timeout=5, markup=False)


class IncidentCommands(Provider):
    def _commands(self) -> list[PaletteCommand]:
        if isinstance(self.screen, ModalScreen):
            return []  # over a dialog, the dashboard's actions would act behind what the user sees
        return list(palette_commands(self.app))

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(Content(command.name), command.run, text=command.name, help=None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, highlight(matcher, command.name), command.run, text=command.name)


def highlight(matcher: Matcher, candidate: str) -> Content:
    """``matcher.highlight`` without parsing ``candidate`` as markup (a remapped key is config text)."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    for offset in offsets if score else ():
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
