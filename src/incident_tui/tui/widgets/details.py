"""The details box under the list: stage track, times, people, triage and its playbook."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from incident_tui.domain.models import Incident
from incident_tui.domain.playbooks import Playbook
from incident_tui.tui.render import details


class DetailsPanel(Static):
    """Its clock is its own: the elapsed times move once a second while it is shown."""

    def on_mount(self) -> None:
        self._shown: tuple[Incident | None, Playbook | None] | None = None
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        clock = getattr(self.app, "clock", None)
        if self._shown is not None and clock is not None and self.display:  # folded into the header when narrow
            self.show(self._shown[0], clock(), self._shown[1])

    def show(self, incident: Incident | None, now: datetime, playbook: Playbook | None) -> None:
        self._shown = (incident, playbook)
        if incident is None:
            self.update(Text("No incident selected. Press d to declare one.", style="dim"), layout=False)
        else:
            self.update(details(incident, now, playbook), layout=False)
