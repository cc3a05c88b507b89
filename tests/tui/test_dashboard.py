import asyncio
import subprocess
import sys
import threading

from helpers import settle, timeline_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.widgets import Input

from incident_tui.config import Config, HookConfig
from incident_tui.domain.models import EventKind, Stage
from incident_tui.services.prompts import PromptService
from incident_tui.tui.app import IncidentApp
from incident_tui.tui.screens.choice import ChoiceScreen
from incident_tui.tui.screens.form import ConfirmScreen, FormScreen
from incident_tui.tui.screens.help import HelpScreen
from incident_tui.tui.screens.samples import SamplesScreen
from incident_tui.tui.widgets.incident_list import IncidentList
from incident_tui.tui.widgets.timeline import TimelinePane


P1 = "INC-20261125-001"  # the OpenHands regression, diagnose
P2 = "INC-20261125-002"  # support-summary, contained by kill switch
P3 = "INC-20261124-001"  # faq-answer, triage without a category


def timeline_texts(app, incident_id):
    return [e.text for e in app.service.timeline(incident_id)]


async def select(pilot, app, incident_id):
    app.query_one(IncidentList).select_id(incident_id)
    await pilot.pause()
    assert app.current.id == incident_id


async def test_list_is_worst_first_and_drives_the_panes(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        ids = [i.id for i in app.query_one(IncidentList).incidents]
        assert ids == [P1, P2, P3]  # the closed one is hidden
        assert app.current.id == P1
        assert app.query_one(TimelinePane).incident_id == P1
        await pilot.press("down")
        assert app.current.id == P2
        assert app.query_one(TimelinePane).incident_id == P2
        await pilot.press("c")
        assert len(app.query_one(IncidentList).incidents) == 4


async def test_note_from_anywhere_with_backdate(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("n")
        assert isinstance(app.focused, Input) and app.focused.id == "note"
        await pilot.press(*"-5m canary recovered on EU traffic", "enter")
        await settle(pilot)
        note = app.service.timeline(P1)[-2:]
        texts = [e.text for e in note]
        assert "canary recovered on EU traffic" in [e.text for e in app.service.timeline(P1)]
        stored = next(e for e in app.service.timeline(P1) if e.text == "canary recovered on EU traffic")
        assert stored.backdated and stored.author == "ana"
        assert app.query_one("#note", Input).value == ""  # cleared once stored
        shown = timeline_rows(app)
        assert any("canary recovered on EU traffic" in s for s in shown)
        assert texts


async def test_star_the_selected_event(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        event = app.query_one(TimelinePane).selected_event
        assert event is not None and not event.starred
        await pilot.press("asterisk")
        await settle(pilot)
        assert app.service.repo.get_event(event.doc_id).starred
        await pilot.press("f")  # filter: starred
        pane = app.query_one(TimelinePane)
        assert pane.filter == "starred" and all(e.starred for e in pane.visible_events())


async def test_contain_first_guard_offers_override(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        incident = app.service.declare(title="new", prompt_id="support-summary", severity="P2", detected_by="manual")
        app.service.triage(incident.id, "prompt-quality", "h")
        app.reload()
        await select(pilot, app, incident.id)
        await pilot.press("a")
        await settle(pilot)
        assert app.service.get(incident.id).stage is Stage.CONTAIN
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen) and app.screen.choice_title == "Contain first"
        await pilot.press("o")  # override: a reason, on the timeline
        await settle(pilot)
        assert isinstance(app.screen, FormScreen) and app.screen.form_title == "Contain first: override"
        await pilot.press(*"eval shows both versions broken", "enter")
        await settle(pilot)
        got = app.service.get(incident.id)
        assert got.stage is Stage.DIAGNOSE and got.contain_override == "eval shows both versions broken"
        assert any(e.kind is EventKind.OVERRIDE for e in app.service.timeline(incident.id))


async def test_triage_by_keys(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, app, P3)
        await pilot.press("t")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "down", "down", "enter")  # model behaviour
        assert isinstance(app.screen, FormScreen)
        assert "Responds: ML engineer" in app.screen.intro
        await pilot.press(*"new model snapshot is verbose", "enter")
        await settle(pilot)
        got = app.service.get(P3)
        assert got.category.value == "model-behaviour" and got.hypothesis == "new model snapshot is verbose"
        assert "Triage complete (model behaviour). Root cause hypothesis: new model snapshot is verbose" in \
            timeline_texts(app, P3)


async def test_rollback_confirms_runs_hook_and_moves_production(make_app, tmp_path, demo_db):
    record = tmp_path / "env.txt"
    script = tmp_path / "rollback.py"
    script.write_text(
        "import os\n"
        f"open({str(record)!r}, 'w').write(' '.join(os.environ[k] for k in "
        "('INCIDENT_ID', 'PROMPT_ID', 'FROM_VERSION', 'TO_VERSION')))\n"
    )
    app = make_app(Config(user="ana", hooks=HookConfig(rollback=[sys.executable, str(script)], timeout=30)))
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, app, P2)  # support-summary v7, kill switch used, production still v7
        await pilot.press("r")
        assert isinstance(app.screen, ChoiceScreen)
        assert "previous good version (default)" in str(app.screen.choices[0][1])
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Route support-summary v7 → v6" in str(app.screen.body)
        assert "run python" in str(app.screen.body)
        await pilot.press("y")
        await settle(pilot)
        assert record.read_text() == f"{P2} support-summary 7 6"
        assert PromptService(demo_db).production_version("support-summary") == 6
        texts = timeline_texts(app, P2)
        assert any(t.startswith("Hook ok") for t in texts)
        assert "Rollback executed. Traffic routed to support-summary v6 (from v7)" in texts


async def test_failing_hook_is_shown_and_not_contained(make_app, tmp_path):
    script = tmp_path / "kill.py"
    script.write_text("import sys\nprint('gateway said no')\nsys.exit(4)\n")
    app = make_app(Config(user="ana", hooks=HookConfig(kill_switch=[sys.executable, str(script)], timeout=30)))
    async with app.run_test(size=(120, 36)) as pilot:
        incident = app.service.declare(title="fresh", prompt_id="faq-answer", severity="P1", detected_by="alert")
        app.reload()
        await select(pilot, app, incident.id)
        await pilot.press("K")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # cancel does nothing
        await settle(pilot)
        assert not any("Hook" in t for t in timeline_texts(app, incident.id))
        await pilot.press("K", "y")
        await settle(pilot)
        assert app.service.get(incident.id).contained_at is None
        texts = timeline_texts(app, incident.id)
        assert any("Hook failed" in t and "exit 4" in t and "gateway said no" in t for t in texts)


async def test_declare_modal(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, FormScreen)
        await pilot.press("r")  # typed into the title: a dialog never triggers app keys
        assert isinstance(app.screen, FormScreen)
        await pilot.press("backspace", *"Answers in the wrong language", "enter")
        await pilot.press(*"faq-ans", "right", "enter")  # accept the completion
        await pilot.press("enter")  # version blank: production
        await pilot.press("tab", "tab")  # past both selects (defaults P2, alert)
        await pilot.press(*"-20m", "enter")
        await settle(pilot)
        created = [i for i in app.service.list() if i.title == "Answers in the wrong language"]
        assert len(created) == 1
        incident = created[0]
        assert incident.prompt_id == "faq-answer" and incident.prompt_version == 12
        assert incident.detection_gap is not None and incident.detection_gap.total_seconds() == 20 * 60
        assert app.current.id == incident.id


async def test_declare_validation_keeps_the_form(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("d", *"x", "enter", *"p", "enter", "enter", "tab", "tab", *"lunchtime", "enter")
        assert isinstance(app.screen, FormScreen)
        assert "cannot read time" in str(app.screen.query_one("#form-error").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, FormScreen)


async def test_milestones_people_edit_samples(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("m", "down", "enter")  # root cause
        await pilot.press("end", "ctrl+u")  # the form starts from the hypothesis: clear it
        await pilot.press(*"v5 added 'start exploring with view'", "ctrl+s")
        await settle(pilot)
        assert app.service.get(P1).root_cause == "v5 added 'start exploring with view'"
        await pilot.press("p")
        await pilot.press("enter", "enter", "end", *", eve", "ctrl+s")
        await settle(pilot)
        assert app.service.get(P1).responders == ["cy", "dee", "eve"]
        await pilot.press("e", "end", *" (P1)", "ctrl+s")
        await settle(pilot)
        assert app.service.get(P1).title.endswith("(P1)")
        await pilot.press("S")
        await settle(pilot)  # the analysis runs off the UI thread
        assert isinstance(app.screen, SamplesScreen)
        assert app.screen.rows and app.screen.common.failing_n == 51  # 3 by hand + 48 imported
        await pilot.press("escape")
        await pilot.press("s", *"Rename a module", "tab", *"view /workspace again", "tab", *"loops", "ctrl+s")
        await settle(pilot)
        assert len(app.service.samples(P1)) == 100  # 3 by hand + 48 + 48 imported in the demo, + this one


async def test_close_confirms(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("m", "end", "enter")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.service.get(P1).stage is Stage.CLOSED
        assert P1 not in [i.id for i in app.query_one(IncidentList).incidents]


async def test_a_note_from_another_process_appears(make_app, db_path):
    app = make_app()
    seen = []
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        proc = subprocess.run(
            [sys.executable, "-m", "incident_tui", "--db", str(db_path), "note", P1, "from the other terminal"],
            capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        ui_thread = threading.get_ident()
        refresh = app.db.storage.refresh
        looked_from = []

        def watched_refresh(*args, **kwargs):
            looked_from.append(threading.get_ident())
            return refresh(*args, **kwargs)

        app.db.storage.refresh = watched_refresh
        app.poll_store()  # what the 0.5 s timer does
        await settle(pilot)
        assert looked_from and ui_thread not in looked_from  # the file is looked at off the UI thread
        assert any(isinstance(m, IncidentApp.StoreChanged) for m in seen)  # ... and the UI is told
        shown = timeline_rows(app)
        assert any("from the other terminal" in s for s in shown)


async def test_help_palette_and_zoom(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("2", "z")
        assert app.screen.maximized is app.query_one(TimelinePane)
        await pilot.press("z")
        assert app.screen.maximized is None
        await pilot.press("ctrl+p")
        await pilot.press(*"kill switch")
        await pilot.pause()
        assert "kill switch" in app.screen.query_one("CommandList").get_option_at_index(0).prompt.plain.lower()


async def test_keymap_from_config(make_app):
    app = make_app(Config(user="ana", keys={"note": "ctrl+o"}))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+o")
        assert app.focused.id == "note"


async def test_narrow_terminal_keeps_controls(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        bar = str(app.query_one("#keybar").render())
        assert bar.rstrip().endswith("help") and " n  note" in bar
        header = str(app.query_one("#status").render())
        assert "3 active" in header and P1 in header and "diagnose" in header


NASTY = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60) | st.sampled_from(
    ["[bold]x[/]", "[/]", "[link=http://x]y[/link]", "\x1b[31mred", "$(rm -rf /)", "[[", "]", "\\[b]"]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=NASTY, note=NASTY)
def test_user_text_renders_literally(title, note):
    from datetime import datetime, timezone

    from incident_tui.domain.models import (
        DetectionMethod,
        Incident,
        Severity,
        TimelineEvent,
    )
    from incident_tui.domain.text import clean, neutralise
    from incident_tui.tui.render import details, event_row, incident_row, preview

    now = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    incident = Incident(id="INC-20261125-001", title=clean(title, multiline=False) or "t", prompt_id="p",
                        prompt_version=1, severity=Severity.P1, detected_by=DetectionMethod.ALERT, detected_at=now,
                        hypothesis=clean(note))
    row = incident_row(incident, now, compact=True)
    assert neutralise(incident.title) in row.plain  # bidi and invisible characters shown, not applied
    head, _cut = preview(clean(note))  # a note of many lines shows its first few
    assert head in event_row(TimelineEvent(incident.id, now, EventKind.NOTE, clean(note)), now,
                             with_date=False).plain
    details(incident, now, None)


async def test_markup_like_text_on_screen(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        incident = app.service.declare(title="[bold]x[/] \x1b[31mred", prompt_id="p", severity="P1",
                                       detected_by="alert", new_prompt=True)
        app.service.note(incident.id, "[/] and [link=x]y[/link]")
        app.reload()
        await select(pilot, app, incident.id)
        shown = timeline_rows(app)
        assert any("[/] and [link=x]y[/link]" in s for s in shown)
        incidents = app.query_one(IncidentList)  # what is painted: rows are built when drawn
        painted = "\n".join(incidents.render_line(y).text for y in range(incidents.size.height))
        assert "[bold]x[/] red" in painted


async def test_app_opens_its_database_after_the_first_frame(tmp_path):
    from incident_tui.demo import seed_demo
    from incident_tui.store.storage import open_db
    from incident_tui.tui.app import IncidentApp

    path = tmp_path / "incidents.json"
    db = open_db(path)
    seed_demo(db)
    db.close()
    app = IncidentApp(db_path=path, poll_interval=0, selection_delay=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert [i.id[:4] for i in app.query_one(IncidentList).incidents] == ["INC-"] * 3
        await pilot.press("n", *"opened lazily", "enter")
        await settle(pilot)
        assert "opened lazily" in [e.text for e in app.service.timeline(app.current.id)]


async def test_an_open_done_before_the_widgets_mount_is_in_the_first_frame_once(tmp_path):
    """The open starts as the widgets are built; when it ends first, on_mount fills the panes (once)."""
    from incident_tui.demo import seed_demo
    from incident_tui.store.storage import open_db
    from incident_tui.tui.widgets.header import StatusHeader

    path = tmp_path / "incidents.json"
    db = open_db(path)
    seed_demo(db)
    db.close()
    opened = threading.Event()
    starts = []

    class QuickDisk(IncidentApp):
        def _opening_ends(self, outcome):
            super()._opening_ends(outcome)
            opened.set()

        async def _on_compose(self):  # Textual composes (App._on_compose) after this handler
            self._open_store()
            assert await asyncio.to_thread(opened.wait, 10)  # the open ends before compose, even

        def _start(self, incidents=None):
            starts.append(incidents is not None)
            super()._start(incidents)

    app = QuickDisk(db_path=path, poll_interval=0, selection_delay=0)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.service is not None  # on_mount took it: no frame says "opening"
        assert "3 active" in str(app.query_one(StatusHeader).render())
        await settle(pilot)
        assert starts == [True]  # the message that came before mount did not start it again
        assert [i.id[:4] for i in app.query_one(IncidentList).incidents] == ["INC-"] * 3


async def test_the_header_says_the_database_is_opening_until_it_is_open(tmp_path, monkeypatch):
    # A slow disk: the screen is painted and answers, and it does not claim "0 active" meanwhile.
    import incident_tui.store.storage as storage
    from incident_tui.demo import seed_demo
    from incident_tui.tui.widgets.header import StatusHeader

    path = tmp_path / "incidents.json"
    db = storage.open_db(path)
    seed_demo(db)
    db.close()
    disk = threading.Event()
    real_open = storage.open_db

    def slow_open(*args, **kwargs):
        disk.wait(10)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(storage, "open_db", slow_open)
    app = IncidentApp(db_path=path, poll_interval=0, selection_delay=0)
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(3):
            await pilot.pause(0.05)
        header = str(app.query_one(StatusHeader).render())
        assert "opening the database" in header and "active" not in header
        # No empty panes meanwhile (they would read as "no incidents"): the body waits for the data.
        assert not app.query_one("#main").display and not app.query_one(IncidentList).region
        disk.set()
        await settle(pilot)
        assert app.service is not None
        assert "3 active" in str(app.query_one(StatusHeader).render())
        assert app.query_one("#main").display and app.query_one(IncidentList).region
        assert app.focused is app.query_one(IncidentList)  # focused at mount, hidden or not


async def test_a_corrupt_database_ends_the_app_with_one_line_and_is_left_alone(tmp_path):
    from incident_tui.tui.app import IncidentApp

    path = tmp_path / "incidents.json"
    path.write_bytes(b'{"_default": {"1": ')
    app = IncidentApp(db_path=path, poll_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert app.return_code == 1
    assert str(path) in app.load_error and "\n" not in app.load_error
    assert path.read_bytes() == b'{"_default": {"1": '


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=NASTY, note=NASTY)
def test_widgets_show_user_text_literally(title, note):
    """The real widgets, mounted, with generated text: shown as typed (escapes stripped), never parsed."""
    import asyncio
    from datetime import datetime, timezone

    from textual.app import App

    from incident_tui.domain.models import DetectionMethod, Incident, Severity, TimelineEvent
    from incident_tui.domain.text import clean, neutralise
    from incident_tui.tui.render import preview
    from incident_tui.tui.widgets.details import DetailsPanel

    now = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    shown_title = clean(title, multiline=False) or "t"
    incident = Incident(id="INC-20261125-001", title=shown_title, prompt_id="p", prompt_version=1,
                        severity=Severity.P1, detected_by=DetectionMethod.ALERT, detected_at=now,
                        hypothesis=clean(note))
    event = TimelineEvent(incident.id, now, EventKind.NOTE, clean(note) or "n", author="ana", doc_id=1)

    class Host(App):
        def compose(self):
            yield IncidentList()
            yield TimelinePane()
            yield DetailsPanel()

    async def run():
        app = Host()
        async with app.run_test(size=(200, 40)) as pilot:
            app.query_one(IncidentList).show([incident], now, compact=True)
            app.query_one(TimelinePane).show(incident.id, [event], now)
            app.query_one(DetailsPanel).show(incident, now, None)
            await pilot.pause()
            row = app.query_one(IncidentList).row(0)
            assert neutralise(shown_title)[:20] in str(row)
            # each line of the note, literally; lines after the first hang under the text
            shown = timeline_rows(app)[0]
            assert all(part.strip() in shown for part in preview(event.text)[0].split("\n"))
            app.export_screenshot()  # renders every widget: must not raise

    asyncio.run(run())


async def test_list_rows_are_recut_when_the_pane_changes_width(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        incidents = app.query_one(IncidentList)

        def first_row() -> int:  # what is painted: rows are cut to the list's width when drawn
            return max(len(incidents.render_line(y).text.rstrip()) for y in range(2))

        before = first_row()
        await pilot.press("1", "z")  # zoomed: the pane is the whole screen, not a column
        await pilot.pause()
        after = first_row()
        assert after > before + 40
        assert after <= incidents.scrollable_content_region.width
