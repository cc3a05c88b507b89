"""The details box under the list: stage track, times, people, triage and its playbook."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from incident_tui.domain.models import Incident
from incident_tui.domain.playbooks import Playbook
from incident_tui.tui.render import details


class DetailsPanel(Static):
    def show(self, incident: Incident | None, now: datetime, playbook: Playbook | None) -> None:
        if incident is None:
            self.update(Text("No incident selected. Press d to declare one.", style="dim"), layout=False)
        else:
            self.update(details(incident, now, playbook), layout=False)
