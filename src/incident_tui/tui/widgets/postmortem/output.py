"""Getting the postmortem out: copy (system clipboard, else OSC 52), save to a file, mark final.

A collaborator of PostmortemPane with typed inputs: the pane flushes what is typed first (so a
copy or a file always holds what is on screen) and calls in here. The clipboard runs in a thread
worker (xclip can hang on an unreachable display); it posts ``ClipboardCopied`` back to the pane,
and the notification says which path was used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.widget import Widget

from incident_tui.domain.postmortem import (
    SECTIONS,
    CheckItem,
    Finding,
    Postmortem,
    SectionSpec,
    checklist,
    still_empty,
)
from incident_tui.services.clipboard import CopyResult, copy_text
from incident_tui.services.postmortem import PostmortemService
from incident_tui.tui.widgets.postmortem.dialogs import ChecklistDialog, ExportChoice

# submit(call, done, failed): queue a store call on the writer.
Submit = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[Exception], None]], Any]


def section_of(title: str) -> SectionSpec:
    return next(s for s in SECTIONS if s.title == title)


@dataclass
class ClipboardCopied(Message):
    """The clipboard worker is done: ``result`` says how (or why not)."""

    text: str
    what: str
    fmt: str
    result: CopyResult


def final_checklist(pm: Postmortem, findings: list[Finding]) -> ChecklistDialog:
    """The checks a final postmortem passes, and the fields still empty that no check speaks for."""
    items: list[CheckItem] = checklist(pm, findings)
    claimed = {name for item in items for name in item.fields}
    # Fields the checks speak for are on their own lines already (✗ when empty).
    by_section: dict[str, list[str]] = {}
    for title, spec in still_empty(pm):
        if spec.key not in claimed:
            by_section.setdefault(title, []).append(spec.label)
    # Named by field where a section has several ("DETECTION GAP (Why not sooner)"): beside
    # "✓ Detection gap and method filled" it must not read as "the detection gap is empty".
    empty = [title if len(section_of(title).fields) == 1 else f"{title} ({', '.join(labels)})"
             for title, labels in by_section.items()]
    return ChecklistDialog(items, empty)


class PostmortemOutput:
    def __init__(self, service: PostmortemService, *, submit: Submit, failed: Callable[[Exception], None],
                 host: Widget) -> None:
        self.service = service
        self.submit = submit
        self.failed = failed  # a store call that failed
        self.host = host  # notifications come from it; the clipboard worker reports to it

    # --- copy ---------------------------------------------------------------------------------

    def copy(self, incident_id: str, part: str | None, fmt: str, what: str) -> None:
        service = self.service
        self.submit(lambda: service.render(incident_id, fmt, part), partial(self._to_clipboard, what, fmt),
                    self.failed)

    def _to_clipboard(self, what: str, fmt: str, text: str) -> None:
        # On the app, so the app's Worker.StateChanged handler sees it should it ever fail.
        self.host.app.run_worker(partial(self._clipboard_worker, text, what, fmt), thread=True,
                                 group="postmortem-clipboard", exit_on_error=False)

    def _clipboard_worker(self, text: str, what: str, fmt: str) -> None:
        self.host.post_message(ClipboardCopied(text, what, fmt, copy_text(text)))  # copy_text never raises

    def copied(self, message: ClipboardCopied) -> None:
        what, fmt, result = message.what, message.fmt, message.result
        if result.ok:
            self.host.notify(f"Copied {what} ({fmt}) to the system clipboard with {result.method}", timeout=5,
                             markup=False)
            return
        # No system clipboard (headless, SSH, no xclip): ask the terminal through OSC 52.
        self.host.app.copy_to_clipboard(message.text)
        self.host.notify(
            f"Copied {what} ({fmt}) through the terminal (OSC 52): {result.message}. "
            "If nothing pastes, your terminal blocks OSC 52: save to a file with ctrl+o.",
            severity="warning", timeout=10, markup=False,
        )

    # --- save to a file -----------------------------------------------------------------------

    def save(self, incident_id: str, choice: ExportChoice, part: str | None, what: str) -> None:
        service = self.service
        # The dialog named the file: saving again replaces it (atomically; a device or FIFO is written into).
        self.submit(lambda: service.export_to_file(incident_id, choice.fmt, choice.path, part, replace=True),
                    partial(self._file_saved, what, choice.fmt), self._file_failed)

    def _file_saved(self, what: str, fmt: str, path: Path) -> None:
        self.host.notify(f"Saved {what} ({fmt}) to {path}", timeout=8, markup=False)

    def _file_failed(self, error: Exception) -> None:
        detail = getattr(error, "strerror", None) or str(error)
        where = getattr(error, "filename", None)
        self.host.notify(f"Could not save: {detail}{': ' + str(where) if where else ''}", severity="error",
                         timeout=10, markup=False)

    # --- status -------------------------------------------------------------------------------

    def set_status(self, incident_id: str, value: str, done: Callable[[Postmortem], None]) -> None:
        service = self.service
        self.submit(lambda: service.set_status(incident_id, value), done, self.failed)
