"""The one base class of every dialog: it closes once, and acts only on a key pressed after it showed.

Keys arrive in bursts (laggy SSH, a bouncing key). Typed-ahead text still lands in a dialog's fields
(see tui/typeahead.py), but a dialog never takes a *yes* — a pick, a confirm, a submit — from a key
that was read before the dialog was on screen: the user cannot have seen what they were agreeing to.
Such a key is answered with one line and the dialog stays open. Cancelling is always allowed.

A dialog with fields (FormScreen, the postmortem's dialogs) binds ``FORM_KEYS``: enter moves to
the next field and submits on the last, tab and shift+tab move at once. One implementation, so
every form in the app answers enter the same way.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual import _time
from textual.actions import SkipAction
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input

R = TypeVar("R")

UNSEEN = "That key was pressed before this dialog was on screen: nothing done — press it again to confirm."


def form_keys(prefix: str = "") -> list[Binding]:
    """Enter, tab and shift+tab of a form. Priority bindings run as the key is read, so focus
    moves before the next key arrives: text typed (or pasted) straight after enter lands in the
    next field, not this one. ``prefix`` gives the bindings ids, so they can be remapped."""
    ids = (f"{prefix}.next", f"{prefix}.tab", f"{prefix}.backtab") if prefix else (None, None, None)
    return [
        Binding("enter", "next_field", "next field", show=False, priority=True, id=ids[0]),
        Binding("tab", "cycle(1)", "next field", show=False, priority=True, id=ids[1]),
        Binding("shift+tab", "cycle(-1)", "previous field", show=False, priority=True, id=ids[2]),
    ]


class Dialog(ModalScreen[R], Generic[R]):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shown_at: float | None = None
        self.closing = False

    def _compositor_refresh(self) -> None:
        # The frame goes to the terminal here. The first one after mounting shows the whole
        # dialog: from then on, what the user presses, they saw. (An after-refresh callback would
        # be later, sometimes much later while a cursor blinks, and refuse keys typed in view.)
        super()._compositor_refresh()
        if self.shown_at is None and self.is_mounted and self.is_active:
            self.shown_at = _time.get_time()  # the clock Textual stamps key events with

    def seen(self) -> bool:
        """Was the key being handled (if any) pressed after this dialog was on screen?"""
        if self.shown_at is None:
            return False
        typeahead = getattr(self.app, "typeahead", None)
        key_time = typeahead.key_time if typeahead is not None else None
        return key_time is None or key_time >= self.shown_at

    def is_cancel(self, result: R | None) -> bool:
        return result is None or result is False

    def dismiss(self, result: R | None = None) -> AwaitComplete:
        """Close once, only while on top; a yes needs a key the user pressed with the dialog in view."""
        if self.closing or not self.is_active:
            return AwaitComplete.nothing()
        if not self.is_cancel(result) and not self.seen():
            self.notify(UNSEEN, severity="warning", timeout=4, markup=False)
            return AwaitComplete.nothing()
        self.closing = True
        return super().dismiss(result)

    # --- forms (a dialog that binds form_keys()) ---------------------------------------------

    def form_fields(self) -> list[Widget]:
        """The fields enter walks through, in order; a form overrides it."""
        return []

    def action_submit(self) -> None:
        """Check the fields and dismiss with their values; a form overrides it."""
        raise NotImplementedError(f"{type(self).__name__} binds form keys but cannot submit")

    def action_next_field(self) -> None:
        widgets = self.form_fields()
        focused = self.focused
        if not isinstance(focused, Input) or focused not in widgets:
            raise SkipAction()  # enter opens a select, breaks a line in a text area, presses a button
        index = widgets.index(focused)
        if index < len(widgets) - 1:
            self.set_focus(widgets[index + 1])
        else:
            # Submit once the field has handled the keys queued before this enter.
            focused.call_later(self.action_submit)

    def action_cycle(self, step: int) -> None:
        """Tab / shift+tab, moving focus at once (the stock focus_next is deferred)."""
        chain = self.focus_chain
        if not chain:
            return
        index = chain.index(self.focused) if self.focused in chain else -1
        self.set_focus(chain[(index + step) % len(chain)])
