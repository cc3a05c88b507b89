"""The footer: the keys that matter here, as many as fit, then where the rest are.

Textual's Footer scrolls sideways when there are more keys than columns; at 80 columns that
hides the keys a responder needs. This bar puts the focused pane's own keys first, then the
app's in the order of KEYS, and always ends with the help key.
"""

from __future__ import annotations

from functools import cache

from rich.text import Text
from textual.widgets import Static

from incident_tui.tui.bindings import KEYS, key_label

_ORDER = {k.id: n for n, k in enumerate(KEYS)}


@cache
def _declared_order(cls) -> dict[str | None, int]:
    ids = [b.id for klass in reversed(cls.__mro__) for b in vars(klass).get("BINDINGS", ()) if hasattr(b, "id")]
    return {ident: n for n, ident in enumerate(ids) if ident}


class KeyBar(Static):
    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._changed)

    def _changed(self, _screen) -> None:
        self.refresh_keys()

    def on_resize(self) -> None:
        self.refresh_keys()

    def refresh_keys(self) -> None:
        try:
            active = self.screen.active_bindings
        except Exception:  # screen not ready yet
            return
        local: list[tuple[int, str, str]] = []  # (declared order, key, words)
        # One key per app action, the first of KEYS that has it: after note is remapped to ctrl+n,
        # "ctrl+n note" and not "i note" (the alternative key, which comes first in the map).
        app_keys: dict[str, tuple[int, str, str]] = {}
        seen_actions: set[str] = set()
        for key, item in active.items():
            binding = item.binding
            if not binding.show or not item.enabled:
                continue
            label = key_label(binding.key_display or key)
            if item.node is self.app:
                rank = _ORDER.get(binding.id or "", len(_ORDER))
                if binding.action not in app_keys or rank < app_keys[binding.action][0]:
                    app_keys[binding.action] = (rank, label, binding.description)
                continue
            if binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            local.append((_declared_order(type(item.node)).get(binding.id, 999), label, binding.description))
        # A remapped key comes last in Textual's map: keep the order the pane declares instead.
        local.sort(key=lambda entry: entry[0])
        ordered = sorted(app_keys.items(), key=lambda kv: kv[1][0])
        items = [(label, words) for _, label, words in local]
        items += [(label, words) for action, (_, label, words) in ordered if action != "help" and action not in seen_actions]
        width = max(self.size.width, 20)
        help_key = app_keys["help"][1] if "help" in app_keys else "?"
        tail = Text.assemble((f" {help_key} ", "bold reverse"), " help ")
        text = Text(no_wrap=True, overflow="crop")
        for key, description in items:
            piece = Text.assemble((f" {key} ", "bold reverse"), f" {description} ")
            if text.cell_len + piece.cell_len + tail.cell_len > width:
                break
            text.append_text(piece)
        text.append_text(tail)
        self.update(text, layout=False)
