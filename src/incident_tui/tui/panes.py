"""Panes 3–5 of the dashboard, built the first time they are shown so start-up stays quick."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from incident_tui.tui.context import PaneContext

if TYPE_CHECKING:
    from incident_tui.tui.app import IncidentApp


def pane_factories(app: IncidentApp) -> dict[str, tuple[str, Callable[[], Any]]]:
    """Pane name → (border title, builder)."""
    context = PaneContext(db_lock=app.db_lock, writer=app.writer, write=app.write, clock=app.clock)

    def diff():
        from incident_tui.services.changes import ChangeService
        from incident_tui.tui.widgets.diff_pane import DiffPane

        return DiffPane(app.service.prompts, changes=ChangeService(app.service), context=context)

    def metrics():
        from incident_tui.services.metrics import MetricsService
        from incident_tui.tui.widgets.metrics_pane import MetricsPane

        return MetricsPane(MetricsService(app.service.stores, clock=app.clock), lock=app.db_lock)

    def postmortem():
        from incident_tui.services.postmortem import PostmortemService

        return dashboard_postmortem_class()(
            PostmortemService(app.service.stores, app.service, clock=app.clock), context=context
        )

    return {
        "diff": ("3 Diagnose · what changed, failing vs last good", diff),
        "postmortem": ("4 Postmortem", postmortem),
        "metrics": ("5 Metrics · across incidents", metrics),
    }


def dashboard_postmortem_class():
    """The postmortem pane as the dashboard hosts it (imported late: it is not needed at start)."""
    from incident_tui.tui.widgets.postmortem_form import PostmortemPane

    class DashboardPostmortem(PostmortemPane):
        """Focusable as a whole, so 1–5 and the outage keys still work until enter starts editing."""

        can_focus = True  # enter (the pane's "edit" binding) then goes into the fields

        def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
            if action == "edit":  # only while the pane itself, not one of its fields, has focus
                return self.screen.focused is self
            return super().check_action(action, parameters)

        def action_edit(self) -> None:
            self.screen.set_focus(super().focus_target())

        def focus_target(self):
            return self

    return DashboardPostmortem
