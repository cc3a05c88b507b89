"""List editing for the postmortem pane: contributing factors, action items and waivers.

A collaborator of PostmortemPane with typed inputs: a dialog asks (``ask``), the store call is
queued on the writer (``store``), and the pane redraws the lists from what the store returned.
A delete can be undone once with ctrl+z.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import Screen

from incident_tui.domain.postmortem import ActionItem, ActionKind, Postmortem
from incident_tui.services.postmortem import PostmortemService
from incident_tui.tui.widgets.postmortem.dialogs import (
    ActionDialog,
    ItemDialog,
    WaiverDialog,
)

# store(call, keep_factor, keep_action, message): queue ``call`` (it returns the stored postmortem);
# the pane then shows the lists with the factor / action item at that index selected, and the message.
Store = Callable[[Callable[[], Postmortem], int | None, int | None, str], None]
Ask = Callable[[Screen[Any], Callable[[Any], None]], Any]  # App.push_screen


class ListEditor:
    def __init__(self, service: PostmortemService, *, store: Store, ask: Ask, say: Callable[[str], None]) -> None:
        self.service = service
        self.store = store
        self.ask = ask
        self.say = say  # a one-line notification
        self.undo: tuple[str, int, Any] | None = None

    # --- contributing factors ----------------------------------------------------------------

    def factor_request(self, incident_id: str, pm: Postmortem, what: str, index: int | None, delta: int) -> None:
        service, iid, factors = self.service, incident_id, pm.contributing_factors
        if what == "add":
            at = len(factors) if index is None else index

            def added(text: str | None) -> None:
                if text:
                    self.store(lambda: service.add_factor(iid, text, at), at, None, "")

            self.ask(ItemDialog("Add a contributing factor", placeholder="what made it possible or worse"), added)
        elif what == "edit" and index is not None:
            def edited(text: str | None) -> None:
                if text:
                    self.store(lambda: service.edit_factor(iid, index, text), index, None, "")

            self.ask(ItemDialog(f"Contributing factor {index + 1}", factors[index]), edited)
        elif what == "delete" and index is not None:
            self.undo = ("factor", index, factors[index])
            self.store(lambda: service.delete_factor(iid, index), index, None,
                       f"Deleted contributing factor {index + 1} · ctrl+z brings it back")
        elif what == "move" and index is not None:
            self.store(lambda: service.move_factor(iid, index, index + delta), index + delta, None, "")
        elif what == "undo":
            self.undo_delete(iid, "factor")

    # --- action items --------------------------------------------------------------------------

    def item_request(self, incident_id: str, pm: Postmortem, what: str, index: int | None, delta: int) -> None:
        service, iid, items = self.service, incident_id, pm.action_items
        if what == "add":
            at = len(items) if index is None else index
            kind = next((k for k in ActionKind if k not in {i.kind for i in items}), ActionKind.PREVENTS_RECURRENCE)

            def added(item: ActionItem | None) -> None:
                if item:
                    self.store(lambda: service.add_action(iid, item, at), None, at, "")

            self.ask(ActionDialog("Add an action item", ActionItem(kind=kind)), added)
        elif what == "edit" and index is not None:
            def edited(item: ActionItem | None) -> None:
                if item:
                    self.store(lambda: service.replace_action(iid, index, item), None, index, "")

            self.ask(ActionDialog(f"Action item {index + 1}", items[index]), edited)
        elif what == "delete" and index is not None:
            self.undo = ("action", index, items[index])
            self.store(lambda: service.delete_action(iid, index), None, index,
                       f"Deleted action item {index + 1} · ctrl+z brings it back")
        elif what == "move" and index is not None:
            self.store(lambda: service.move_action(iid, index, index + delta), None, index + delta, "")
        elif what == "undo":
            self.undo_delete(iid, "action")
        elif what == "waive":
            covered = {i.kind for i in items}
            kind = next((k for k in ActionKind if k not in covered), ActionKind.IMPROVES_RESPONSE)

            def waived(choice: tuple[ActionKind, str] | None) -> None:
                if choice:
                    chosen, reason = choice
                    said = f"Waived: {chosen.label}" if reason.strip() else f"Waiver lifted: {chosen.label}"
                    self.store(lambda: service.set_waiver(iid, chosen, reason), None, None, said)

            self.ask(WaiverDialog(kind, pm.waivers), waived)

    def undo_delete(self, incident_id: str, kind: str) -> None:
        if self.undo is None or self.undo[0] != kind:
            self.say("Nothing to undo here")
            return
        _, index, value = self.undo
        self.undo = None
        service, iid = self.service, incident_id
        if kind == "factor":
            self.store(lambda: service.add_factor(iid, value, index), index, None, "Restored")
        else:
            self.store(lambda: service.add_action(iid, value, index), None, index, "Restored")
