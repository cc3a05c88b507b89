"""The command palette: every action of the key map, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from incident_tui.tui.bindings import KEYS, key_label


class IncidentCommands(Provider):
    def _commands(self):
        app = self.app
        keymap = getattr(app, "keymap_overrides", {})
        for k in KEYS:
            if k.id == "note.alt":
                continue
            key = key_label(keymap.get(k.id, k.key))
            yield f"{k.help} ({key})", partial(app.run_action, k.action), k.help

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback)
