"""The postmortem of an incident: load it prefilled, autosave each change, render it for other tools.

One stored postmortem per incident (store/postmortems.py). Every change is a read-modify-write
inside one store transaction (one durable commit), so a change acknowledged to the caller
survives a kill, and two terminals editing different fields do not undo each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from incident_tui.domain import export as exporter
from incident_tui.domain import postmortem as pmdomain
from incident_tui.domain.models import EventKind
from incident_tui.domain.postmortem import (
    FIELDS,
    LINE,
    TEXT_FIELDS,
    ActionItem,
    ActionKind,
    ActionStatus,
    DocStatus,
    Finding,
    Postmortem,
)
from incident_tui.domain.text import clean
from incident_tui.services.incidents import IncidentService, ServiceError, enum_value, fits
from incident_tui.store.storage import transaction
from incident_tui.store.stores import Database, Stores

if TYPE_CHECKING:  # services.files (tempfile, pathlib) loads when a file is written, not for stdout
    from pathlib import Path

_FACTORS, _ACTIONS = FIELDS["contributing_factors"].label, FIELDS["action_items"].label
ACTION_FIELDS = ("text", "owner", "due", "kind", "status", "link")


class PostmortemError(ServiceError):
    """A postmortem change the service refuses; one line for the responder."""


class PostmortemService:
    """Load, autosave, lint and render postmortems. Every write method returns the new Postmortem."""

    def __init__(
        self, stores: Stores | Database, incidents: IncidentService, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.stores = Stores.of(stores)
        self.db = self.stores.db  # for transactions
        self.repo = self.stores.postmortems
        self.incidents = incidents
        self.clock = clock or incidents.clock

    # --- reading -------------------------------------------------------------------------

    def load(self, incident_id: str) -> Postmortem:
        """The postmortem: saved edits over values computed from the incident and its timeline."""
        incident = self.incidents.get(incident_id)
        pm = self.repo.find(incident.id) or Postmortem(incident_id=incident.id)
        return pm.with_prefill(pmdomain.prefill(incident, self.incidents.timeline(incident.id)))

    def lint(self, incident_id: str) -> list[Finding]:
        return pmdomain.lint(self.load(incident_id))

    def render(self, incident_id: str, fmt: str, section: str | None = None) -> str:
        """The postmortem (or one section) as markdown, text, slack or jira."""
        try:
            return exporter.render(self.load(incident_id), fmt, section)
        except exporter.ExportError as exc:
            raise PostmortemError(str(exc)) from None

    def export_to_file(
        self, incident_id: str, fmt: str, path: str | os.PathLike[str], section: str | None = None,
        *, replace: bool = False,
    ) -> Path:
        """Render and write to ``path`` (services.files.write_output: atomic for a regular file,
        directly into a device or FIFO; an existing file only with ``replace``); returns the path."""
        from incident_tui.services.files import write_output

        return write_output(path, self.render(incident_id, fmt, section), replace=replace)

    # --- writing -------------------------------------------------------------------------

    def _change(self, incident_id: str, change: Callable[[Postmortem], bool], *, what: str = "") -> Postmortem:
        """Load, apply ``change`` and, when it reports a change, write: all in one commit.

        ``what`` names a content edit ("Summary"). Editing a final document reopens it as a draft,
        stamped on the timeline in the same commit: "final" never describes text nobody reviewed.
        """
        with transaction(self.db):
            pm = self.load(incident_id)
            if change(pm):
                now = self.clock()
                if what and pm.status is DocStatus.FINAL:
                    pm.status = DocStatus.DRAFT
                    self._stamp(pm.incident_id, now, f"Postmortem reopened as draft by {self.incidents.author}: "
                                                     f"{what} edited after it was marked final")
                pm.updated_at = now.isoformat()
                self.repo.save(pm)
        return pm

    def _stamp(self, incident_id: str, at: datetime, text: str) -> None:
        self.incidents.stamp(incident_id, EventKind.EDIT, text, at=at)

    def save_field(self, incident_id: str, field: str, value: str) -> Postmortem:
        """Autosave one text field. Setting a prefilled field to its computed value is not an edit."""
        spec = FIELDS.get(field)
        if spec is None or field not in TEXT_FIELDS:
            raise PostmortemError(f"unknown postmortem field {field!r}")
        fits(**{"lines" if spec.kind == LINE else "texts": {spec.label: value}})
        value = clean(value, multiline=False) if spec.kind == LINE else clean(value).rstrip()

        def change(pm: Postmortem) -> bool:
            if pm.get(field) == value and (field in pm.edited or spec.prefilled or not value):
                return False
            pm.fields[field] = value
            pm.edited.add(field)
            return True

        return self._change(incident_id, change, what=spec.label)

    def reset_field(self, incident_id: str, field: str) -> Postmortem:
        """Forget the user's value of a prefilled field: it follows the incident again."""
        if field not in pmdomain.PREFILLED:
            raise PostmortemError(f"{field!r} is not computed from the incident")

        def change(pm: Postmortem) -> bool:
            if field not in pm.edited:
                return False
            pm.edited.discard(field)
            return True

        pm = self._change(incident_id, change, what=f"{FIELDS[field].label} (back to the computed value)")
        return self.load(pm.incident_id)

    # contributing factors ---------------------------------------------------------------

    def add_factor(self, incident_id: str, text: str, index: int | None = None) -> Postmortem:
        """Insert a factor at ``index`` (default: the end)."""
        text = _one_item(text)
        return self._change(incident_id, lambda pm: _insert(pm.contributing_factors, text, index) or True,
                            what=_FACTORS)

    def edit_factor(self, incident_id: str, index: int, text: str) -> Postmortem:
        text = _one_item(text)

        def change(pm: Postmortem) -> bool:
            _check_index(pm.contributing_factors, index, "contributing factor")
            if pm.contributing_factors[index] == text:
                return False
            pm.contributing_factors[index] = text
            return True

        return self._change(incident_id, change, what=_FACTORS)

    def move_factor(self, incident_id: str, index: int, to: int) -> Postmortem:
        return self._change(incident_id, lambda pm: _move(pm.contributing_factors, index, to, "contributing factor"),
                            what=_FACTORS)

    def delete_factor(self, incident_id: str, index: int) -> Postmortem:
        def change(pm: Postmortem) -> bool:
            _check_index(pm.contributing_factors, index, "contributing factor")
            del pm.contributing_factors[index]
            return True

        return self._change(incident_id, change, what=_FACTORS)

    # action items -------------------------------------------------------------------------

    def add_action(self, incident_id: str, item: ActionItem | None = None, index: int | None = None) -> Postmortem:
        """Insert an action item at ``index`` (default: the end)."""
        item = _clean_action(item or ActionItem())
        return self._change(incident_id, lambda pm: _insert(pm.action_items, item, index) or True, what=_ACTIONS)

    def edit_action(self, incident_id: str, index: int, **changes: str) -> Postmortem:
        """Change some of text, owner, due, kind, status, link of the action at ``index``."""
        unknown = set(changes) - set(ACTION_FIELDS)
        if unknown:
            raise PostmortemError(
                f"unknown action item field {sorted(unknown)[0]!r} (one of: {', '.join(ACTION_FIELDS)})"
            )

        def change(pm: Postmortem) -> bool:
            _check_index(pm.action_items, index, "action item")
            old = pm.action_items[index]
            new = _clean_action(_replace(old, changes))
            if new == old:
                return False
            pm.action_items[index] = new
            return True

        return self._change(incident_id, change, what=_ACTIONS)

    def replace_action(self, incident_id: str, index: int, item: ActionItem) -> Postmortem:
        """Write every field of the action at ``index`` (what the form's dialog saves)."""
        return self.edit_action(incident_id, index, **_action_strings(item))

    def move_action(self, incident_id: str, index: int, to: int) -> Postmortem:
        return self._change(incident_id, lambda pm: _move(pm.action_items, index, to, "action item"), what=_ACTIONS)

    def delete_action(self, incident_id: str, index: int) -> Postmortem:
        def change(pm: Postmortem) -> bool:
            _check_index(pm.action_items, index, "action item")
            del pm.action_items[index]
            return True

        return self._change(incident_id, change, what=_ACTIONS)

    def set_waiver(self, incident_id: str, kind: ActionKind | str, reason: str) -> Postmortem:
        """Waive a kind of action item with a reason; an empty reason lifts the waiver."""
        kind = _enum(ActionKind, kind, "action item kind")
        fits(texts={"the waiver reason": reason})
        reason = clean(reason, multiline=False)

        def change(pm: Postmortem) -> bool:
            if pm.waivers.get(kind, "") == reason:
                return False
            if reason:
                pm.waivers[kind] = reason
            else:
                pm.waivers.pop(kind, None)
            return True

        return self._change(incident_id, change, what=_ACTIONS)

    # status -------------------------------------------------------------------------------

    def set_status(self, incident_id: str, status: DocStatus | str) -> Postmortem:
        """Move the document status; "final" only when lint has no errors. Stamped on the timeline."""
        status = _enum(DocStatus, status, "document status")
        old: list[DocStatus] = []

        def change(pm: Postmortem) -> bool:
            if pm.status is status:
                return False
            if status is DocStatus.FINAL:
                errors = pmdomain.blocking(pmdomain.lint(pm))
                if errors:
                    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
                    raise PostmortemError(f"not final yet: {errors[0].message}{more}")
            old.append(pm.status)
            pm.status = status
            self._stamp(pm.incident_id, self.clock(), f"Postmortem status: {old[0].label} → {status.label}")
            return True

        return self._change(incident_id, change)


# --- helpers ---------------------------------------------------------------------------------


def _one_item(text: str) -> str:
    fits(texts={"the contributing factor": text})
    text = clean(text).strip()
    if not text:
        raise PostmortemError("an empty item: type something, or delete it")
    return text


def _check_index(items: list, index: int, what: str) -> None:
    if not 0 <= index < len(items):
        raise PostmortemError(f"no {what} {index + 1} (there are {len(items)})")


def _insert(items: list, value, index: int | None) -> None:
    if index is None or index > len(items):
        items.append(value)
    else:
        items.insert(max(index, 0), value)


def _move(items: list, index: int, to: int, what: str) -> bool:
    _check_index(items, index, what)
    to = max(0, min(to, len(items) - 1))
    if to == index:
        return False
    items.insert(to, items.pop(index))
    return True


def _enum(kind, value, what: str):
    return enum_value(kind, value, what, PostmortemError)


def _action_strings(item: ActionItem) -> dict[str, str]:
    return item.to_dict()


def _replace(old: ActionItem, changes: dict[str, str]) -> ActionItem:
    data = {**old.to_dict(), **{k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}}
    return ActionItem(
        text=data["text"],
        owner=data["owner"],
        due=data["due"],
        kind=_enum(ActionKind, data["kind"], "action item kind"),
        status=_enum(ActionStatus, data["status"], "action item status"),
        link=data["link"],
    )


def _clean_action(item: ActionItem) -> ActionItem:
    fits(lines={"the owner": item.owner, "the due date": item.due},
         texts={"the action item": item.text, "the link": item.link})
    return ActionItem(
        text=clean(item.text).strip(),
        owner=clean(item.owner, multiline=False),
        due=clean(item.due, multiline=False),
        kind=item.kind,
        status=item.status,
        link=clean(item.link, multiline=False),
    )
