"""List editing for the postmortem pane: contributing factors, action items and waivers.

A mixin of PostmortemPane: dialogs ask, the ordered writer stores, and the lists are redrawn
from what the store returned. A delete can be undone once with ctrl+z.
"""

from __future__ import annotations

from functools import partial

from incident_tui.domain.postmortem import ActionItem, ActionKind, Postmortem
from incident_tui.tui.widgets.postmortem.dialogs import (
    ActionDialog,
    ItemDialog,
    WaiverDialog,
)
from incident_tui.tui.widgets.postmortem.lists import ActionList, FactorList


class ListOpsMixin:
    _undo: tuple[str, int, object] | None = None

    def _store(self, call, keep_factor=None, keep_action=None, message: str = "") -> None:
        self.writer.submit(call, done=partial(self._lists_stored, keep_factor, keep_action, message),
                           failed=self._store_failed)

    def _lists_stored(self, keep_factor, keep_action, message: str, pm: Postmortem) -> None:
        if self.pm is None or not self.is_attached or pm.incident_id != self.incident_id:
            return
        self.pm.contributing_factors = pm.contributing_factors
        self.pm.action_items = pm.action_items
        self.pm.waivers = pm.waivers
        self._status_followed(pm)
        self._show_lists(keep_factor, keep_action)
        self._refresh()
        if message:
            self.notify(message, timeout=4, markup=False)

    # --- contributing factors ----------------------------------------------------------------

    def factor_request(self, what: str, index: int | None, delta: int) -> None:
        service, iid, factors = self.service, self.incident_id, self.pm.contributing_factors
        if what == "add":
            at = len(factors) if index is None else index

            def added(text: str | None) -> None:
                if text:
                    self._store(lambda: service.add_factor(iid, text, at), keep_factor=at)

            self.app.push_screen(ItemDialog("Add a contributing factor", placeholder="what made it possible or worse"),
                                 added)
        elif what == "edit" and index is not None:
            def edited(text: str | None) -> None:
                if text:
                    self._store(lambda: service.edit_factor(iid, index, text), keep_factor=index)

            self.app.push_screen(ItemDialog(f"Contributing factor {index + 1}", factors[index]), edited)
        elif what == "delete" and index is not None:
            self._undo = ("factor", index, factors[index])
            self._store(lambda: service.delete_factor(iid, index), keep_factor=index,
                        message=f"Deleted contributing factor {index + 1} · ctrl+z brings it back")
        elif what == "move" and index is not None:
            self._store(lambda: service.move_factor(iid, index, index + delta), keep_factor=index + delta)
        elif what == "undo":
            self._undo_delete("factor")

    # --- action items --------------------------------------------------------------------------

    def action_request(self, what: str, index: int | None, delta: int) -> None:
        service, iid, items = self.service, self.incident_id, self.pm.action_items
        if what == "add":
            at = len(items) if index is None else index
            kind = next((k for k in ActionKind if k not in {i.kind for i in items}), ActionKind.PREVENTS_RECURRENCE)

            def added(item: ActionItem | None) -> None:
                if item:
                    self._store(lambda: service.add_action(iid, item, at), keep_action=at)

            self.app.push_screen(ActionDialog("Add an action item", ActionItem(kind=kind)), added)
        elif what == "edit" and index is not None:
            def edited(item: ActionItem | None) -> None:
                if item:
                    self._store(lambda: service.replace_action(iid, index, item), keep_action=index)

            self.app.push_screen(ActionDialog(f"Action item {index + 1}", items[index]), edited)
        elif what == "delete" and index is not None:
            self._undo = ("action", index, items[index])
            self._store(lambda: service.delete_action(iid, index), keep_action=index,
                        message=f"Deleted action item {index + 1} · ctrl+z brings it back")
        elif what == "move" and index is not None:
            self._store(lambda: service.move_action(iid, index, index + delta), keep_action=index + delta)
        elif what == "undo":
            self._undo_delete("action")
        elif what == "waive":
            covered = {i.kind for i in items}
            kind = next((k for k in ActionKind if k not in covered), ActionKind.IMPROVES_RESPONSE)

            def waived(choice: tuple[ActionKind, str] | None) -> None:
                if choice:
                    chosen, reason = choice
                    said = f"Waived: {chosen.label}" if reason.strip() else f"Waiver lifted: {chosen.label}"
                    self._store(lambda: service.set_waiver(iid, chosen, reason), message=said)

            self.app.push_screen(WaiverDialog(kind, self.pm.waivers), waived)

    def _undo_delete(self, kind: str) -> None:
        if self._undo is None or self._undo[0] != kind:
            self.notify("Nothing to undo here", timeout=3, markup=False)
            return
        _, index, value = self._undo
        self._undo = None
        service, iid = self.service, self.incident_id
        if kind == "factor":
            self._store(lambda: service.add_factor(iid, value, index), keep_factor=index, message="Restored")
        else:
            self._store(lambda: service.add_action(iid, value, index), keep_action=index, message="Restored")

    def focus_list(self, which: str) -> None:
        (self.query_one(FactorList) if which == "factors" else self.query_one(ActionList)).focus()
