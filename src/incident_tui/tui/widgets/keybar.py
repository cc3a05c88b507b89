"""The footer: the keys that matter here, as many as fit, then where the rest are.

Textual's Footer scrolls sideways when there are more keys than columns; at 80 columns that
hides the keys a responder needs. This bar puts the focused pane's own keys first, then the
app's in the order of KEYS, and always ends with the help key.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from incident_tui.tui.bindings import key_label


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
        local: list[tuple[str, str]] = []
        app_keys: list[tuple[str, str]] = []
        seen_actions: set[str] = set()
        for key, item in active.items():
            binding = item.binding
            if not binding.show or not item.enabled:
                continue
            if binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            label = key_label(binding.key_display or key)
            target = app_keys if item.node is self.app else local
            target.append((label, binding.description))
        items = local + [kv for kv in app_keys if kv[0] != "?"]
        width = max(self.size.width, 20)
        tail = Text.assemble((" ? ", "bold reverse"), " help ")
        text = Text(no_wrap=True, overflow="crop")
        for key, description in items:
            piece = Text.assemble((f" {key} ", "bold reverse"), f" {description} ")
            if text.cell_len + piece.cell_len + tail.cell_len > width:
                break
            text.append_text(piece)
        text.append_text(tail)
        self.update(text, layout=False)
