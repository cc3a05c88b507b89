"""The diagnose view: what changed above the diff, and what the failing samples share (S)."""

from __future__ import annotations

from helpers import settle
from textual.widgets import OptionList

from incident_tui.tui.widgets.diff_pane import DiffPane
from incident_tui.tui.widgets.suspects import SuspectList


async def test_what_changed_ranks_suspects_opens_a_prompt_change_and_links_one(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        incident = app.current
        await pilot.press("3")
        await settle(pilot)
        suspects = app.query_one(SuspectList)
        kinds = [(s.change.kind.value, s.before_impact) for s in suspects.suspects]
        # The demo's v4 → v5 label move is closest before impact, then the agent release, then the model.
        assert kinds[:3] == [("prompt", True), ("deploy", True), ("model", True)]
        assert ("config", False) in kinds and all(not b for _, b in kinds[kinds.index(("prompt", False)):])
        rendered = [str(o.prompt) for o in suspects._options]
        assert "6m before" in rendered[0] and "v4 → v5" in rendered[0]
        assert "after impact" in rendered[-1]

        # Keys in a burst: to the list, enter on the prompt change shows exactly that diff.
        await pilot.press("shift+tab", "enter")
        await settle(pilot)
        pane = app.query_one(DiffPane)
        assert (pane.old_version, pane.new_version) == (4, 5)

        # l on the deploy change stamps it on the timeline as a suspect.
        await pilot.press("shift+tab", "down", "l")
        await settle(pilot)
        texts = [e.text for e in app.service.timeline(incident.id)]
        assert any(t.startswith("Change linked as suspect: CHG-2 (deploy) openhands agent release") for t in texts)


async def test_a_change_recorded_by_hand_joins_the_suspects(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        before = len(app.query_one(SuspectList).suspects)
        await pilot.press("C")
        await settle(pilot)
        await pilot.press("tab", *"retrieval index rebuilt [bold]", "tab", "tab", *"-3h", "ctrl+s")
        await settle(pilot)
        suspects = app.query_one(SuspectList).suspects
        assert len(suspects) == before + 1
        mine = next(s for s in suspects if s.change.summary == "retrieval index rebuilt [bold]")
        assert mine.before_impact and mine.change.prompt_id == app.current.prompt_id


async def test_samples_view_ranks_against_the_baseline_and_shows_examples(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        screen = app.screen
        assert screen.common.failing_n == 51 and screen.common.good_n == 48
        phrases = [p.phrase for _side, p in screen.rows]
        assert "i'll start exploring the file system with the view command" in phrases
        assert not any("str_replace_editor" in p or "tests pass" in p for p in phrases)
        options = screen.query_one("#phrases", OptionList)
        target = phrases.index("i'll start exploring the file system with the view command")
        await pilot.press(*["down"] * target)
        await settle(pilot)
        examples = str(screen.query_one("#examples").render())
        assert "start exploring the file system with the view command" in examples
        assert options.highlighted == target
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.screen_stack[0]


async def test_validate_a_fix_from_the_milestones_then_promotion_asks_when_it_is_stale(make_app, tmp_path):
    import stat
    import sys

    from incident_tui.config import Config, HookConfig

    hook = tmp_path / "validate.py"
    hook.write_text(f"#!{sys.executable}\nimport os\nn = sum(1 for _ in open(os.environ['SAMPLES_FILE']))\n"
                    "print(f'{n - 1}/{n}')\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    app = make_app(Config(user="ana", hooks=HookConfig(validate=[str(hook)])))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        incident = app.current
        choices = ["impact-resolved", "root-cause", "staging", "validate", "promoted", "closed"]
        # m, down to "validate", enter, then enter on the version form (v6, the fix): one burst.
        await pilot.press("m", *["down"] * choices.index("validate"), "enter")
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k", *"6", "enter")
        await settle(pilot)
        texts = [e.text for e in app.service.timeline(incident.id)]
        assert any(t.startswith("Remediation validated on 51 failure samples: 98% pass") and t.endswith("v6)")
                   for t in texts)

        # Promoting v5 (not the validated v6) asks first and names why; n leaves it unstamped.
        await pilot.press("m", *["down"] * choices.index("promoted"), "enter")
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k", "5", "enter")
        await settle(pilot)
        assert "last validation was of v6, not v5" in str(app.screen.body)
        await pilot.press("n")
        await settle(pilot)
        assert app.read(app.service.get, incident.id).promoted_at is None
