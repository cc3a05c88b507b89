"""The command palette: every action of the key map, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

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
            yield DiscoveryHit(Content(name), callback, text=name, help=None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, highlight(matcher, name), callback, text=name)


def highlight(matcher: Matcher, candidate: str) -> Content:
    """``matcher.highlight`` without parsing ``candidate`` as markup (a remapped key is config text)."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    for offset in offsets if score else ():
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
