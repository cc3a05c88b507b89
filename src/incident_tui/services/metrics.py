"""Gathers incidents and postmortem action items from the store for domain/metrics.

Postmortems belong to another service; this module only reads their ``postmortems`` table,
defensively: a document's ``action_items`` is expected to be a list of dicts with owner,
due and status, and anything else is skipped rather than trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tinydb import TinyDB

from incident_tui.domain.metrics import MetricFilter, MetricsReport, compute_metrics
from incident_tui.domain.models import Incident
from incident_tui.domain.times import local_now
from incident_tui.store.repository import INCIDENTS

POSTMORTEMS = "postmortems"


class MetricsService:
    """Computes MetricsReport from whatever the database holds right now."""

    def __init__(self, db: TinyDB, *, clock: Callable[[], datetime] = local_now) -> None:
        self.db = db
        self.clock = clock
        self.skipped = 0  # incident documents that could not be read on the last report

    def incidents(self) -> list[Incident]:
        """Every readable incident; a damaged document is skipped and counted, never fatal."""
        out: list[Incident] = []
        skipped = 0
        for doc in self.db.table(INCIDENTS):
            try:
                out.append(Incident.from_dict(doc))
            except (KeyError, ValueError, TypeError, AttributeError):
                skipped += 1
        self.skipped = skipped
        return out

    def action_items(self) -> list[dict[str, Any]]:
        """Action items of every postmortem, each tagged with its postmortem's incident id."""
        if POSTMORTEMS not in self.db.tables():
            return []
        items: list[dict[str, Any]] = []
        for doc in self.db.table(POSTMORTEMS):
            raw_items = doc.get("action_items")
            if not isinstance(raw_items, list):
                continue
            incident_id = doc.get("incident_id")
            for raw in raw_items:
                if not isinstance(raw, dict):
                    continue
                item = dict(raw)
                if "incident_id" not in item and isinstance(incident_id, str):
                    item["incident_id"] = incident_id
                items.append(item)
        return items

    def report(self, filters: MetricFilter | None = None) -> MetricsReport:
        return compute_metrics(self.incidents(), self.action_items(), now=self.clock(), filters=filters)
