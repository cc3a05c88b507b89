"""Gathers incidents and postmortems from their repositories for domain/metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from incident_tui.domain.metrics import MetricFilter, MetricsReport, compute_metrics
from incident_tui.domain.models import Incident
from incident_tui.domain.postmortem import Postmortem
from incident_tui.domain.times import local_now
from incident_tui.store.stores import Database, Stores


class MetricsService:
    """Computes MetricsReport from whatever the database holds right now."""

    def __init__(self, stores: Stores | Database, *, clock: Callable[[], datetime] = local_now) -> None:
        self.stores = Stores.of(stores)
        self.clock = clock
        self.skipped = 0  # incident and postmortem documents that could not be read on the last report

    def incidents(self) -> list[Incident]:
        """Every readable incident; a damaged document is skipped and counted, never fatal."""
        return self.stores.incidents.list_incidents()

    def postmortems(self) -> list[Postmortem]:
        """Every readable postmortem (their action items are counted); a damaged one is skipped and counted."""
        return self.stores.postmortems.all()

    def report(self, filters: MetricFilter | None = None) -> MetricsReport:
        incidents = self.incidents()
        skipped = len(self.stores.incidents.skipped)
        postmortems = self.postmortems()
        self.skipped = skipped + len(self.stores.postmortems.skipped)
        return compute_metrics(incidents, postmortems, now=self.clock(), filters=filters)
