"""What the postmortem pane shows about itself: lint beside each field, progress, the section list.

A mixin of PostmortemPane. Everything is computed from the pane's local copy, so it follows
every key; each Static is updated only when its text changes (an update re-lays out the form).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from incident_tui.domain.postmortem import (
    PREFILLED,
    SECTION_KEYS,
    SECTIONS,
    ActionKind,
    filled,
    lint,
    progress,
    section,
    section_complete,
)
from incident_tui.tui.widgets.postmortem.fields import FieldRow, update_if_changed

NARROW = 100  # below: guidance above the fields instead of beside them, a shorter header line


class DisplayMixin:
    def _mark_current(self) -> None:
        """Highlight the row and section with focus (CSS :focus-within leaves siblings' labels stale).

        Only the label and title that change are touched: a class change restyles the node and
        its children, and a focus move must cost one frame, not a restyle of a whole section.
        """
        focused = self.screen.focused if self.is_attached else None
        inside = focused is not None and self in focused.ancestors
        row = next((n for n in (focused.ancestors if inside else []) if isinstance(n, FieldRow)), None)
        section_key = self.current_section if inside else ""
        old_row, old_section = self._marked
        if row is not old_row:
            if old_row is not None:
                old_row.mark_current(False)
            if row is not None:
                row.mark_current(True)
        if section_key != old_section:
            if old_section in self._sections:
                self._section_title(old_section).set_class(False, "-current")
            if section_key in self._sections:
                self._section_title(section_key).set_class(True, "-current")
        self._marked = (row, section_key)

    def _section_title(self, key: str) -> Static:
        return self._sections[key].query_one(".pm-section-title", Static)

    def _refresh(self, only: str | None = None) -> None:
        """Lint, origin labels, progress and the section list, from the local copy.

        ``only``: the field being typed in; its row is the only one whose lint can have changed.
        """
        if self.pm is None or self._closing:
            return
        self.findings = lint(self.pm)
        by_field: dict[str, list[tuple[str, str]]] = {}
        for finding in self.findings:
            by_field.setdefault(finding.field.split(".", 1)[0], []).append((finding.level, finding.message))
        rows = [self._rows[only]] if only in self._rows else self._rows.values()
        for row in rows:
            # Empty fields are what the guidance and the checklist are for; lint speaks once there is text.
            row.show_lint(by_field.get(row.key, []) if filled(self.pm, row.key) else [])
            self._show_origin(row)
        actions = by_field.get("action_items", []) if self.pm.action_items else []
        lines = [("✗ " if level == "error" else "! ") + message for level, message in actions]
        update_if_changed(self.query_one("#pm-actions-lint", Static),
                          Text("\n".join(lines)) if lines else self._kinds_line())
        for n, spec in enumerate(SECTIONS, 1):
            done = section_complete(self.pm, spec.key, self.findings)
            title = Text(f"{'✓' if done else '○'} {n}/{len(SECTIONS)} {spec.title}")
            update_if_changed(self.query_one(f"#pm-sec-{spec.key} .pm-section-title", Static), title)
        self._refresh_head()
        self._refresh_nav()

    def _show_origin(self, row: FieldRow) -> None:
        """auto (locked: it follows the incident), edited ✎, or open for typing; and lock accordingly.

        An auto field with no value yet (an open incident has no end) takes typing at once: there
        is nothing to override.
        """
        if row.key not in PREFILLED:
            row.show_origin(False, False)
            return
        edited = row.key in self.pm.edited
        opened = row.key in self._overriding
        auto = not edited and not opened
        row.set_locked(auto and filled(self.pm, row.key))
        row.show_origin(auto, edited, opened and not edited)

    def _kinds_line(self) -> Text:
        covered = {item.kind for item in self.pm.action_items}
        text = Text()
        for k in ActionKind:
            mark = "✓" if k in covered else ("~" if self.pm.waivers.get(k) else "✗")
            text.append(f"{mark} {k.label}  ")
        return Text(text.plain.rstrip(), style="dim")

    def _refresh_head(self) -> None:
        if self.pm is None:
            return
        done, total = progress(self.pm, self.findings)
        spec = section(self.current_section)
        index = SECTION_KEYS.index(self.current_section) + 1
        wide = self.size.width >= NARROW
        text = Text()  # a base style would colour every later span too
        text.append("Postmortem " if wide else "", style="bold")
        text.append(self.pm.incident_id, style="bold")
        text.append(f" · {self.pm.status.label} · ")
        if wide:  # at 80 columns the bar would push the line into two
            text.append("▰" * done + "▱" * (total - done) + " ", style="green")
        text.append(f"{done}/{total} done · §{index} {spec.title} · {self.fmt}")
        if self._save_state:
            text.append(f" · {self._save_state}", style="bold red" if self._save_state == "NOT SAVED" else "dim")
        update_if_changed(self.query_one("#pm-head", Static), text)

    def _refresh_nav(self) -> None:
        if self.pm is None:
            return
        text = Text()
        for n, spec in enumerate(SECTIONS, 1):
            done = section_complete(self.pm, spec.key, self.findings)
            style = "reverse" if spec.key == self.current_section else ""
            text.append(f"{'✓' if done else '○'} {n:>2} {spec.title.capitalize()}", style=style)
            text.append("\n")
        update_if_changed(self.query_one("#pm-nav", Static), text)
