"""PostmortemService: prefill merged with saved edits, autosave, list editing, status, rendering."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from helpers import Clock
from test_export_golden import (
    build_openhands_incident,  # the shared replay of the OpenHands regression
)

from incident_tui.config import Config
from incident_tui.domain.models import EventKind
from incident_tui.domain.postmortem import (
    ActionItem,
    ActionKind,
    ActionStatus,
    DocStatus,
)
from incident_tui.services.incidents import IncidentService, ServiceError
from incident_tui.services.files import OutputExists
from incident_tui.services.postmortem import PostmortemError, PostmortemService
from incident_tui.store.postmortems import POSTMORTEMS
from incident_tui.store.storage import open_db

TZ = timezone(timedelta(hours=1))


@pytest.fixture
def services(db):
    clock = Clock(datetime(2026, 11, 25, 14, 2, tzinfo=TZ))
    incidents = IncidentService(db, config=Config(user="ana"), clock=clock)
    inc = incidents.declare(
        title="Summaries invent refunds", prompt_id="support-summary", version=7, severity="P1",
        detected_by="alert", started_at=clock.now - timedelta(minutes=12), new_prompt=True,
    )
    return incidents, PostmortemService(db, incidents), inc.id, clock


def test_load_prefills_without_writing(services, db):
    _, pms, iid, _ = services
    pm = pms.load(iid)
    assert pm.get("incident_id") == iid and pm.get("prompt_version") == "v7" and pm.get("detection_gap") == "12m"
    assert "Detection: alert fired" in pm.get("timeline")
    assert pm.edited == set() and pm.status is DocStatus.DRAFT
    assert db.table(POSTMORTEMS).all() == []


def test_unknown_incident_is_a_service_error(services):
    _, pms, _, _ = services
    with pytest.raises(ServiceError, match="no incident INC-20990101-001"):
        pms.load("INC-20990101-001")


def test_saved_fields_survive_reopening(services, db_path):
    _, pms, iid, _ = services
    pms.save_field(iid, "summary", "It broke.\nWe fixed it.  \n\n")
    pms.save_field(iid, "review_date", "  2026-12-02 ")
    db2 = open_db(db_path)
    try:
        again = PostmortemService(db2, IncidentService(db2)).load(iid)
    finally:
        db2.close()
    assert again.get("summary") == "It broke.\nWe fixed it."
    assert again.get("review_date") == "2026-12-02"
    assert again.edited == {"summary", "review_date"}


def test_user_text_is_cleaned_on_save(services):
    _, pms, iid, _ = services
    pm = pms.save_field(iid, "prepared_by", "bo\x1b[31m\nsmith")
    assert pm.get("prepared_by") == "bo smith"
    pm = pms.save_field(iid, "summary", "a\x1b]52;c;eA==\x07b\r\nc")
    assert pm.get("summary") == "ab\nc"
    assert pms.save_field(iid, "impact_segments", "EU\u2028US").get("impact_segments") == "EU US"


def test_prefilled_fields_follow_the_incident_until_edited(services):
    incidents, pms, iid, clock = services
    incidents.edit(iid, severity="P2")
    assert pms.load(iid).get("severity") == "P2"
    pms.save_field(iid, "severity", "P2")  # typing the computed value is not an edit
    assert "severity" not in pms.load(iid).edited
    pms.save_field(iid, "severity", "P1 (customer-facing)")
    incidents.edit(iid, severity="P3")
    assert pms.load(iid).get("severity") == "P1 (customer-facing)"
    clock.now += timedelta(minutes=5)
    incidents.note(iid, "refund tickets from EU", star=True, author="bo")
    assert "bo: refund tickets from EU" in pms.load(iid).get("timeline")  # timeline still follows
    pm = pms.reset_field(iid, "severity")
    assert pm.get("severity") == "P3" and "severity" not in pm.edited


def test_clearing_a_prefilled_field_is_an_edit(services):
    _, pms, iid, _ = services
    pm = pms.save_field(iid, "authors", "")
    assert pm.get("authors") == "" and "authors" in pm.edited


def test_unknown_or_non_text_fields_are_refused(services):
    _, pms, iid, _ = services
    for field in ("bogus", "action_items", "status"):
        with pytest.raises(PostmortemError, match="unknown postmortem field"):
            pms.save_field(iid, field, "x")
    with pytest.raises(PostmortemError, match="not computed"):
        pms.reset_field(iid, "summary")


def test_an_unchanged_save_writes_nothing(services, db):
    _, pms, iid, _ = services
    pms.save_field(iid, "summary", "Same.")
    before = db.table(POSTMORTEMS).all()
    pms.save_field(iid, "summary", "Same.")
    assert db.table(POSTMORTEMS).all() == before


def test_contributing_factors_add_edit_move_delete(services):
    _, pms, iid, _ = services
    pms.add_factor(iid, "no eval gate")
    pms.add_factor(iid, "alert window too long")
    pms.add_factor(iid, "first!", index=0)
    assert pms.load(iid).contributing_factors == ["first!", "no eval gate", "alert window too long"]
    pms.edit_factor(iid, 0, "owner unclear")
    pms.move_factor(iid, 0, 2)
    assert pms.load(iid).contributing_factors == ["no eval gate", "alert window too long", "owner unclear"]
    pms.move_factor(iid, 2, 99)  # clamps
    pms.delete_factor(iid, 1)
    assert pms.load(iid).contributing_factors == ["no eval gate", "owner unclear"]
    with pytest.raises(PostmortemError, match="no contributing factor 5"):
        pms.delete_factor(iid, 4)
    with pytest.raises(PostmortemError, match="empty"):
        pms.add_factor(iid, "   ")


def test_action_items_add_edit_move_delete(services):
    _, pms, iid, _ = services
    pms.add_action(iid, ActionItem("Add refund eval", "ana", "2026-12-09"))
    pms.add_action(iid)
    pms.edit_action(iid, 1, text="Page on 5 min window", owner="bo", kind="improves-detection")
    pms.replace_action(iid, 0, ActionItem("Add refund eval", "ana", "2026-12-10", ActionKind.PREVENTS_RECURRENCE,
                                          ActionStatus.DONE, "https://jira.example/PM-1"))
    pms.move_action(iid, 1, 0)
    items = pms.load(iid).action_items
    assert [a.text for a in items] == ["Page on 5 min window", "Add refund eval"]
    assert items[0].kind is ActionKind.IMPROVES_DETECTION
    assert items[1].status is ActionStatus.DONE and items[1].link == "https://jira.example/PM-1"
    pms.delete_action(iid, 0)
    assert len(pms.load(iid).action_items) == 1
    with pytest.raises(PostmortemError, match="unknown action item kind"):
        pms.edit_action(iid, 0, kind="nice-to-have")
    with pytest.raises(PostmortemError, match="unknown action item field"):
        pms.edit_action(iid, 0, priority="high")
    with pytest.raises(PostmortemError, match="no action item 3"):
        pms.move_action(iid, 2, 0)


def test_waivers(services):
    _, pms, iid, _ = services
    pm = pms.set_waiver(iid, "improves-response", "response went by the book")
    assert pm.waivers == {ActionKind.IMPROVES_RESPONSE: "response went by the book"}
    assert pms.set_waiver(iid, ActionKind.IMPROVES_RESPONSE, "").waivers == {}


def test_final_needs_a_clean_lint_and_is_stamped(services):
    incidents, pms, iid, _ = services
    with pytest.raises(PostmortemError, match="not final yet: .* more"):
        pms.set_status(iid, "final")
    assert pms.load(iid).status is DocStatus.DRAFT
    pms.set_status(iid, "in-review")
    stamped = [e for e in incidents.timeline(iid) if e.kind is EventKind.EDIT]
    assert stamped[-1].text == "Postmortem status: draft → in review"
    assert "Postmortem status" not in pms.load(iid).get("timeline")


def test_a_finished_postmortem_can_be_marked_final(db):
    incidents, pms, iid = build_openhands_incident(db)
    assert pms.lint(iid) == []
    assert pms.set_status(iid, "final").status is DocStatus.FINAL
    assert "Document status | final" in pms.render(iid, "markdown")


@pytest.mark.parametrize(
    "edit, what",
    [
        (lambda pms, iid: pms.save_field(iid, "summary", "Rewritten after the review. Nobody saw it."), "Summary"),
        (lambda pms, iid: pms.save_field(iid, "severity", "P1 (customer-facing)"), "Severity"),
        (lambda pms, iid: pms.add_factor(iid, "a late factor"), "Contributing factors"),
        (lambda pms, iid: pms.delete_factor(iid, 0), "Contributing factors"),
        (lambda pms, iid: pms.edit_action(iid, 0, owner="zed"), "Action items"),
        (lambda pms, iid: pms.add_action(iid, ActionItem("one more", "bo", "2026-12-30")), "Action items"),
        (lambda pms, iid: pms.move_action(iid, 0, 2), "Action items"),
        (lambda pms, iid: pms.set_waiver(iid, ActionKind.IMPROVES_RESPONSE, "by the book"), "Action items"),
    ],
)
def test_editing_a_final_postmortem_reopens_it_as_a_stamped_draft(db, edit, what):
    incidents, pms, iid = build_openhands_incident(db)
    pms.set_status(iid, "final")
    before = len(incidents.timeline(iid))
    pm = edit(pms, iid)
    assert pm.status is DocStatus.DRAFT and pms.load(iid).status is DocStatus.DRAFT
    stamps = incidents.timeline(iid)[before:]
    assert [e.text for e in stamps] == [
        f"Postmortem reopened as draft by {incidents.author}: {what} edited after it was marked final"]
    assert stamps[0].kind is EventKind.EDIT and stamps[0].author == incidents.author
    assert "Document status | draft" in pms.render(iid, "markdown")


def test_a_final_postmortem_stays_final_when_nothing_changes(db):
    incidents, pms, iid = build_openhands_incident(db)
    pm = pms.set_status(iid, "final")
    before = len(incidents.timeline(iid))
    assert pms.save_field(iid, "summary", pm.get("summary")).status is DocStatus.FINAL  # same text: no edit
    pms.reset_field(iid, "severity")  # not overridden: nothing to reset
    assert pms.load(iid).status is DocStatus.FINAL
    assert len(incidents.timeline(iid)) == before


def test_resetting_a_field_of_a_final_postmortem_reopens_it(db):
    incidents, pms, iid = build_openhands_incident(db)
    pms.save_field(iid, "severity", "P1 (benchmarks published)")
    pms.set_status(iid, "final")
    pm = pms.reset_field(iid, "severity")
    assert pm.status is DocStatus.DRAFT and "severity" not in pm.edited
    assert incidents.timeline(iid)[-1].text.startswith("Postmortem reopened as draft by ")


def test_render_and_unknown_format(services):
    _, pms, iid, _ = services
    assert pms.render(iid, "text", "summary") == "SUMMARY\n—\n"
    with pytest.raises(PostmortemError, match="unknown format"):
        pms.render(iid, "pdf")


def test_two_terminals_editing_different_fields_keep_both(services, db_path):
    _, pms, iid, _ = services
    db2 = open_db(db_path)
    try:
        other = PostmortemService(db2, IncidentService(db2))
        pms.save_field(iid, "summary", "From terminal one.")
        other.save_field(iid, "went_well", "From terminal two.")
        other.add_factor(iid, "two's factor")
        pms.add_factor(iid, "one's factor")
        pm = pms.load(iid)
    finally:
        db2.close()
    assert pm.get("summary") == "From terminal one." and pm.get("went_well") == "From terminal two."
    assert pm.contributing_factors == ["two's factor", "one's factor"]


def test_export_to_file_is_atomic_private_and_replaces_only_when_asked(services, tmp_path):
    _, pms, iid, _ = services
    out = pms.export_to_file(iid, "text", tmp_path / "pm.txt")
    assert out.read_text(encoding="utf-8") == pms.render(iid, "text")
    assert out.stat().st_mode & 0o777 == 0o600  # created private, like the database
    with pytest.raises(OutputExists, match="pm.txt exists"):
        pms.export_to_file(iid, "markdown", out)
    assert out.read_text(encoding="utf-8") == pms.render(iid, "text")
    out.chmod(0o644)
    pms.export_to_file(iid, "markdown", out, replace=True)
    assert out.read_text(encoding="utf-8") == pms.render(iid, "markdown")
    assert out.stat().st_mode & 0o777 == 0o644  # a replaced file keeps its permissions
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pm.txt")] == []  # no temp file left
