"""What the postmortem pane shows about itself: lint beside each field, progress, the section list.

Plain functions of the pane's local copy of the postmortem, so what they show follows every key;
the pane puts their text into its Statics (each updated only when its text changes: an update
re-lays out the form).
"""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text

from incident_tui.domain.postmortem import (
    PREFILLED,
    SECTION_KEYS,
    SECTIONS,
    ActionKind,
    Finding,
    Postmortem,
    SectionSpec,
    filled,
    progress,
    section,
    section_complete,
)

NARROW = 100  # below: guidance above the fields instead of beside them, a shorter header line


class Origin(NamedTuple):
    """Where a computed field's value comes from, as its row shows it."""

    auto: bool  # follows the incident
    edited: bool  # overridden by hand (edited ✎)
    opened: bool  # opened for typing, nothing typed yet
    locked: bool  # takes no typing until enter opens it


def origin(pm: Postmortem, key: str, overriding: set[str]) -> Origin | None:
    """auto (locked: it follows the incident), edited ✎, or open for typing; None for a field typed by hand.

    An auto field with no value yet (an open incident has no end) takes typing at once: there
    is nothing to override.
    """
    if key not in PREFILLED:
        return None
    edited = key in pm.edited
    opened = key in overriding
    auto = not edited and not opened
    return Origin(auto, edited, opened and not edited, auto and filled(pm, key))


def lint_by_field(findings: list[Finding]) -> dict[str, list[tuple[str, str]]]:
    """Findings grouped by the field they are about: (level, message) each."""
    by_field: dict[str, list[tuple[str, str]]] = {}
    for finding in findings:
        by_field.setdefault(finding.field.split(".", 1)[0], []).append((finding.level, finding.message))
    return by_field


def actions_lint(pm: Postmortem, by_field: dict[str, list[tuple[str, str]]]) -> Text:
    """Under the action items: their problems, else which kinds are covered."""
    actions = by_field.get("action_items", []) if pm.action_items else []
    lines = [("✗ " if level == "error" else "! ") + message for level, message in actions]
    return Text("\n".join(lines)) if lines else kinds_line(pm)


def kinds_line(pm: Postmortem) -> Text:
    covered = {item.kind for item in pm.action_items}
    text = Text()
    for k in ActionKind:
        mark = "✓" if k in covered else ("~" if pm.waivers.get(k) else "✗")
        text.append(f"{mark} {k.label}  ")
    return Text(text.plain.rstrip(), style="dim")


def section_title(n: int, spec: SectionSpec, pm: Postmortem, findings: list[Finding]) -> Text:
    done = section_complete(pm, spec.key, findings)
    return Text(f"{'✓' if done else '○'} {n}/{len(SECTIONS)} {spec.title}")


def head_line(pm: Postmortem, findings: list[Finding], current_section: str, fmt: str, save_state: str,
              *, wide: bool) -> Text:
    """The pane's top line: incident, status, progress, the section in view, the copy format."""
    done, total = progress(pm, findings)
    spec = section(current_section)
    index = SECTION_KEYS.index(current_section) + 1
    text = Text()  # a base style would colour every later span too
    text.append("Postmortem " if wide else "", style="bold")
    text.append(pm.incident_id, style="bold")
    text.append(f" · {pm.status.label} · ")
    if wide:  # at 80 columns the bar would push the line into two
        text.append("▰" * done + "▱" * (total - done) + " ", style="green")
    text.append(f"{done}/{total} done · §{index} {spec.title} · {fmt}")
    if save_state:
        text.append(f" · {save_state}", style="bold red" if save_state == "NOT SAVED" else "dim")
    return text


def nav_text(pm: Postmortem, findings: list[Finding], current_section: str) -> Text:
    """The section list on the left (wide panes): done or not, the current one reversed."""
    text = Text()
    for n, spec in enumerate(SECTIONS, 1):
        done = section_complete(pm, spec.key, findings)
        style = "reverse" if spec.key == current_section else ""
        text.append(f"{'✓' if done else '○'} {n:>2} {spec.title.capitalize()}", style=style)
        text.append("\n")
    return text
