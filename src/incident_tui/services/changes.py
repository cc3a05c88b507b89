"""Changes: record what changed (deploy pipelines, responders), and rank them as an incident's suspects.

Prompt changes need no recording: every production label move in the registry is one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from incident_tui.domain import timeline as words
from incident_tui.domain.changes import DEFAULT_WINDOW, Change, ChangeKind, Suspect, rank_suspects
from incident_tui.domain.models import EventKind
from incident_tui.domain.text import clean
from incident_tui.services.incidents import IncidentService, ServiceError, enum_value
from incident_tui.store.storage import transaction


class ChangeService:
    def __init__(self, incidents: IncidentService) -> None:
        self.incidents = incidents
        self.repo = incidents.stores.changes

    def add(self, *, kind: ChangeKind | str, summary: str, prompt_id: str | None = None,
            at: datetime | None = None, link: str = "") -> Change:
        kind = enum_value(ChangeKind, kind, "kind")
        summary = clean(summary, multiline=False)
        if not summary:
            raise ServiceError("say what changed (--summary)")
        link = clean(link, multiline=False)
        if link and not link.startswith(("https://", "http://")):
            raise ServiceError(f"a link is an http(s) URL, not {link[:60]!r}")
        now = self.incidents.clock()
        at = at or now
        if at > now + timedelta(minutes=5):
            raise ServiceError("a change cannot be in the future; give the time it landed")
        prompt = clean(prompt_id, multiline=False) if prompt_id else None
        change = Change(kind, summary, at, prompt or None, link, self.incidents.author)
        with transaction(self.incidents.db):
            return self.repo.add(change)

    def _label_moves(self, prompt_id: str) -> list[Change]:
        moves = []
        for m in self.incidents.prompts.label_history(prompt_id, "production"):
            prev = f"v{m.previous_version} → " if m.previous_version is not None else ""
            why = f": {m.why}" if m.why else ""
            moves.append(Change(
                ChangeKind.PROMPT, f"{prompt_id} production {prev}v{m.version}{why}", m.at, prompt_id,
                author=m.who, id=f"LBL-{m.seq}", from_version=m.previous_version, to_version=m.version,
            ))
        return moves

    def all_for(self, prompt_id: str) -> list[Change]:
        return self.repo.all() + self._label_moves(prompt_id)

    def suspects(self, incident_id: str, window: timedelta = DEFAULT_WINDOW) -> list[Suspect]:
        incident = self.incidents.get(incident_id)
        until = incident.closed_at or self.incidents.clock()
        return rank_suspects(self.all_for(incident.prompt_id), prompt_id=incident.prompt_id,
                             impact_start=incident.started_at, until=until, window=window)

    def link(self, incident_id: str, change_id: str) -> Suspect:
        """Stamp "Change linked as suspect" on the incident's timeline."""
        wanted = change_id.strip().upper()
        incident = self.incidents.get(incident_id)
        found = next((s for s in self.suspects(incident.id, timedelta(days=3650)) if s.change.id == wanted), None)
        if found is None:
            raise ServiceError(f"no change {change_id!r} applies to {incident.id} (see `incident-tui changes {incident.id}`)")
        c = found.change
        with transaction(self.incidents.db):
            self.incidents.stamp(incident, EventKind.CHANGE, words.change_suspected(c.id, c.kind.value, c.summary),
                                 meta={"change": c.id})
        return found
