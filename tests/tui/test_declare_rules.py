"""The dashboard's forms apply the service's own rules (one definition): declaring, and versions typed."""

from __future__ import annotations

from test_keys import burst, land

from incident_tui.domain.models import Milestone
from incident_tui.tui.screens.choice import ChoiceScreen
from incident_tui.tui.screens.form import FormScreen


def _error(app) -> str:
    return str(app.screen.query_one("#form-error").render())


async def test_the_declare_form_refuses_an_impact_start_after_now_and_keeps_what_was_typed(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = len(app.service.list(include_closed=True))
        burst(app, "d", *"Refunds invented", "enter", *"support-summary")
        await land(app, pilot)
        app.screen.query_one("#f-started").value = "2026-11-25T15:30+01:00"  # an hour after the app's now
        burst(app, "ctrl+s")
        await land(app, pilot)
        assert isinstance(app.screen, FormScreen)
        assert _error(app) == "impact start is after detection; give a time in the past"
        assert app.screen.values()["title"] == "Refunds invented"
        assert len(app.service.list(include_closed=True)) == before


async def test_the_declare_form_refuses_a_title_over_the_limit(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        burst(app, "d")
        await land(app, pilot)
        app.screen.query_one("#f-title").value = "t" * 5000
        app.screen.query_one("#f-prompt").value = "support-summary"
        burst(app, "ctrl+s")
        await land(app, pilot)
        assert isinstance(app.screen, FormScreen)
        assert _error(app).startswith("the title is too long")


async def test_the_milestone_picker_lists_the_domain_milestones_in_order(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        burst(app, "m")
        await land(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        values = [value for value, _label in app.screen.choices]
        assert values == ["impact-resolved", "root-cause", "staging", "validate", "promoted", "closed"]
        assert [v for v in values if v != "validate"] == [m.value for m in Milestone]


async def test_a_remediation_version_may_be_typed_as_v_and_a_number(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await land(app, pilot)
        incident = app.current
        prompt = incident.prompt_id
        latest = app.service.prompts.versions(prompt)[-1].version
        burst(app, "m", "down", "down")
        await land(app, pilot)  # a burst's enter never picks an option the user has not seen highlighted
        await pilot.press("enter")  # Remediation deployed to staging…
        await land(app, pilot)
        assert isinstance(app.screen, FormScreen)
        field = app.screen.query_one("#f-version")
        field.value = f"v{latest}"
        burst(app, "ctrl+s")
        await land(app, pilot)
        assert app.service.get(incident.id).staging_version == latest
