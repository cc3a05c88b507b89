"""The one base class of every dialog: it closes once, and acts only on a key pressed after it showed.

Keys arrive in bursts (laggy SSH, a bouncing key). Typed-ahead text still lands in a dialog's fields
(see tui/typeahead.py), but a dialog never takes a *yes* — a pick, a confirm, a submit — from a key
that was read before the dialog was on screen: the user cannot have seen what they were agreeing to.
Such a key is answered with one line and the dialog stays open. Cancelling is always allowed.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual import _time
from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen

R = TypeVar("R")

UNSEEN = "That key was pressed before this dialog was on screen: nothing done — press it again to confirm."


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
