"""Getting the postmortem out: copy (system clipboard, else OSC 52), save to a file, mark final.

A mixin of PostmortemPane. Whatever is typed but not yet saved is queued first, so a copy or a
file always holds what is on screen. The clipboard runs in a thread worker (xclip can hang on
an unreachable display); the notification says which path was used.
"""

from __future__ import annotations

from functools import partial

from textual import work

from incident_tui.domain.export import FORMATS
from incident_tui.domain.postmortem import (
    SECTIONS,
    DocStatus,
    checklist,
    section,
    still_empty,
)
from incident_tui.services.clipboard import copy_text
from incident_tui.tui.widgets.postmortem.dialogs import (
    ChecklistDialog,
    ExportChoice,
    ExportDialog,
)


def section_of(title: str):
    return next(s for s in SECTIONS if s.title == title)


class OutputMixin:
    def _what(self, whole: bool) -> str:
        return "the postmortem" if whole else f"section {section(self.current_section).title}"

    def action_cycle_format(self) -> None:
        self.fmt = FORMATS[(FORMATS.index(self.fmt) + 1) % len(FORMATS)]
        self._refresh_head()
        self.notify(f"Copies are now {self.fmt}", timeout=3, markup=False)

    # --- copy ---------------------------------------------------------------------------------

    def action_copy(self, whole: bool = True, fmt: str | None = None) -> None:
        if self.pm is None:
            self.notify("Select an incident first", severity="warning", timeout=4, markup=False)
            return
        fmt = fmt or self.fmt
        self._flush_dirty()
        service, iid, part = self.service, self.incident_id, None if whole else self.current_section
        what = self._what(whole)
        self.writer.submit(lambda: service.render(iid, fmt, part),
                           done=lambda text: self._clipboard_worker(text, what, fmt), failed=self._store_failed)

    @work(thread=True, group="postmortem-clipboard", exit_on_error=False)
    def _clipboard_worker(self, text: str, what: str, fmt: str) -> None:
        result = copy_text(text)
        self.app.call_from_thread(self._copied, text, what, fmt, result)

    def _copied(self, text: str, what: str, fmt: str, result) -> None:
        if result.ok:
            self.notify(f"Copied {what} ({fmt}) to the system clipboard with {result.method}", timeout=5,
                        markup=False)
            return
        # No system clipboard (headless, SSH, no xclip): ask the terminal through OSC 52.
        self.app.copy_to_clipboard(text)
        self.notify(
            f"Copied {what} ({fmt}) through the terminal (OSC 52): {result.message}. "
            "If nothing pastes, your terminal blocks OSC 52: save to a file with ctrl+o.",
            severity="warning", timeout=10, markup=False,
        )

    # --- copy or save, chosen in a dialog ---------------------------------------------------------

    def action_export(self) -> None:
        if self.pm is None:
            self.notify("Select an incident first", severity="warning", timeout=4, markup=False)
            return
        dialog = ExportDialog(self.fmt, section(self.current_section).title, f"{self.incident_id}-postmortem",
                              self.directory)
        self.app.push_screen(dialog, self._export_chosen)

    def _export_chosen(self, choice: ExportChoice | None) -> None:
        if choice is None:
            return
        self.fmt = choice.fmt
        self._refresh_head()
        if choice.action == "copy":
            self.action_copy(choice.whole, choice.fmt)
            return
        self._flush_dirty()
        service, iid, part = self.service, self.incident_id, None if choice.whole else self.current_section
        what = self._what(choice.whole)
        # The dialog named the file: saving again replaces it (atomically; a device or FIFO is written into).
        self.writer.submit(lambda: service.export_to_file(iid, choice.fmt, choice.path, part, replace=True),
                           done=partial(self._file_saved, what, choice.fmt), failed=self._file_failed)

    def _file_saved(self, what: str, fmt: str, path) -> None:
        self.notify(f"Saved {what} ({fmt}) to {path}", timeout=8, markup=False)

    def _file_failed(self, error: Exception) -> None:
        detail = getattr(error, "strerror", None) or str(error)
        where = getattr(error, "filename", None)
        self.notify(f"Could not save: {detail}{': ' + str(where) if where else ''}", severity="error",
                    timeout=10, markup=False)

    # --- status and the final checklist ----------------------------------------------------------

    def action_final(self) -> None:
        self.request_status(DocStatus.FINAL.value)

    def request_status(self, value: str) -> None:
        """Draft and in review are immediate; final goes through the checklist."""
        if self.pm is None:
            return
        self._flush_dirty()
        if value == DocStatus.FINAL.value:
            def confirmed(ok: bool | None) -> None:
                if ok:
                    self._store_status(value)

            items = checklist(self.pm, self.findings)
            claimed = {name for item in items for name in item.fields}
            # Fields the checks speak for are on their own lines already (✗ when empty).
            by_section: dict[str, list[str]] = {}
            for title, spec in still_empty(self.pm):
                if spec.key not in claimed:
                    by_section.setdefault(title, []).append(spec.label)
            # Named by field where a section has several ("DETECTION GAP (Why not sooner)"): beside
            # "✓ Detection gap and method filled" it must not read as "the detection gap is empty".
            empty = [title if len(section_of(title).fields) == 1 else f"{title} ({', '.join(labels)})"
                     for title, labels in by_section.items()]
            self.app.push_screen(ChecklistDialog(items, empty), confirmed)
        else:
            self._store_status(value)

    def _store_status(self, value: str) -> None:
        service, iid = self.service, self.incident_id
        self.writer.submit(lambda: service.set_status(iid, value), done=self._status_stored,
                           failed=self._store_failed)

    def _status_stored(self, pm) -> None:
        if self.pm is None or not self.is_attached or pm.incident_id != self.incident_id:
            return
        self.pm.status = pm.status
        self.query_one("#pm-row-status").set_value(pm.status.value)
        self._refresh()
        self.notify(f"Postmortem is {pm.status.label}", timeout=4, markup=False)
