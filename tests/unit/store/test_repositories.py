"""The repositories beside the incident one: prompts, postmortems, changes, and the bundle of them.

Each stores domain objects and gives them back equal, across a reopen (what the next process
sees), and says plainly when what is asked for is not there.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from incident_tui.domain.changes import Change, ChangeKind
from incident_tui.domain.errors import IncidentTuiError
from incident_tui.domain.models import DetectionMethod, EventKind, Incident, Severity, TimelineEvent
from incident_tui.domain.postmortem import ActionItem, ActionKind, ActionStatus, DocStatus, Postmortem
from incident_tui.domain.prompts import LabelMove, PromptVersion, UnknownPrompt, UnknownVersion, text_sha256
from incident_tui.store.repository import NotFoundError
from incident_tui.store.storage import open_db
from incident_tui.store.stores import Stores

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))


def _version(prompt_id: str, n: int, text: str | None = None) -> PromptVersion:
    text = text if text is not None else f"{prompt_id} says {n}\n"
    return PromptVersion(prompt_id=prompt_id, version=n, text=text, created_at=T0 + timedelta(days=n),
                         source="text", sha256=text_sha256(text), author="bo", note=f"rev {n}")


def _move(prompt_id: str, version: int, seq: int, previous: int | None = None) -> LabelMove:
    return LabelMove(prompt_id=prompt_id, label="production", version=version, previous_version=previous,
                     at=T0 + timedelta(hours=seq), who="bo", why="release", incident_id=None, seq=seq)


def _reopened(db_path, db):
    db.close()
    return Stores(open_db(db_path))


# --- prompts ------------------------------------------------------------------------------------


def test_prompt_versions_and_moves_round_trip(db, db_path):
    stores = Stores(db)
    with stores.transaction():
        stores.prompts.add_versions([_version("summary", 1), _version("summary", 2, "CRLF\r\ntext ✓\n"),
                                     _version("faq", 1)])
    stores.prompts.add_move(_move("summary", 1, 1))
    stores.prompts.add_move(_move("summary", 2, 2, previous=1))

    again = _reopened(db_path, db)
    try:
        assert again.prompts.versions("summary") == [_version("summary", 1), _version("summary", 2, "CRLF\r\ntext ✓\n")]
        assert again.prompts.get("faq", 1) == _version("faq", 1)
        assert again.prompts.registry() == {"summary": {1, 2}, "faq": {1}}
        assert sorted((v.prompt_id, v.version) for v in again.prompts.all_versions()) == [
            ("faq", 1), ("summary", 1), ("summary", 2)]
        assert again.prompts.moves("summary") == [_move("summary", 1, 1), _move("summary", 2, 2, previous=1)]
        assert again.prompts.moves("faq") == [] and again.prompts.versions("nothing") == []
    finally:
        again.db.close()


def test_an_unknown_prompt_or_version_is_refused_by_name(db):
    stores = Stores(db)
    stores.prompts.add_versions([_version("summary", 1), _version("summary", 2)])
    with pytest.raises(UnknownPrompt, match="no prompt 'sumary' is registered"):
        stores.prompts.get("sumary", 1)
    with pytest.raises(UnknownVersion, match=r"summary has no version 9 \(it has v1–v2\)"):
        stores.prompts.get("summary", 9)


def test_the_prompt_index_follows_another_process(db, db_path):
    stores = Stores(db)
    stores.prompts.add_versions([_version("summary", 1)])
    assert [v.version for v in stores.prompts.versions("summary")] == [1]
    other = Stores(open_db(db_path))
    other.prompts.add_versions([_version("summary", 2)])
    other.db.close()
    db.storage.refresh()
    assert [v.version for v in stores.prompts.versions("summary")] == [1, 2]


# --- postmortems --------------------------------------------------------------------------------


def _postmortem(incident_id: str) -> Postmortem:
    return Postmortem(
        incident_id=incident_id,
        fields={"summary": "Refunds were invented [bold]for two hours[/]."},
        edited={"summary"},
        contributing_factors=["no eval on refunds"],
        action_items=[ActionItem("eval gate", "ana", "2026-03-20", ActionKind.IMPROVES_DETECTION,
                                 ActionStatus.IN_PROGRESS, "https://example.test/1")],
        waivers={ActionKind.IMPROVES_RESPONSE: "response was fine"},
        status=DocStatus.IN_REVIEW,
        updated_at=T0.isoformat(),
    )


def test_postmortems_round_trip_and_save_replaces(db, db_path):
    stores = Stores(db)
    stores.postmortems.save(_postmortem("INC-20260301-001"))
    changed = _postmortem("INC-20260301-001")
    changed.status = DocStatus.FINAL
    stores.postmortems.save(changed)  # the same incident: replaced, not added
    stores.postmortems.save(_postmortem("INC-20260301-002"))

    again = _reopened(db_path, db)
    try:
        assert again.postmortems.get("INC-20260301-001") == changed
        assert again.postmortems.find("INC-20260301-002") == _postmortem("INC-20260301-002")
        assert [p.incident_id for p in again.postmortems.all()] == ["INC-20260301-001", "INC-20260301-002"]
        assert again.postmortems.skipped == []
    finally:
        again.db.close()


def test_a_missing_postmortem_is_none_or_a_not_found_error(db):
    stores = Stores(db)
    assert stores.postmortems.find("INC-20260301-001") is None
    assert stores.postmortems.all() == []
    with pytest.raises(NotFoundError, match="no postmortem saved for INC-20260301-001") as caught:
        stores.postmortems.get("INC-20260301-001")
    assert isinstance(caught.value, IncidentTuiError)


def test_an_unreadable_postmortem_is_skipped_and_named(db):
    stores = Stores(db)
    stores.postmortems.save(_postmortem("INC-20260301-001"))
    db.table("postmortems").insert({"incident_id": "INC-20260301-002", "status": "shipped"})
    db.table("postmortems").insert({"fields": {}})
    assert [p.incident_id for p in stores.postmortems.all()] == ["INC-20260301-001"]
    assert len(stores.postmortems.skipped) == 2
    assert "postmortem document 2 of INC-20260301-002" in stores.postmortems.skipped[0]
    assert "lacks field 'incident_id'" in stores.postmortems.skipped[1]


# --- changes ------------------------------------------------------------------------------------


def test_changes_round_trip_with_their_ids(db, db_path):
    stores = Stores(db)
    first = stores.changes.add(Change(ChangeKind.MODEL, "gpt-x → gpt-y", T0, "summary", "https://ci.test/1", "bo"))
    second = stores.changes.add(Change(ChangeKind.DEPLOY, "router 2.3", T0 + timedelta(hours=1)))
    assert (first.id, second.id) == ("CHG-1", "CHG-2")

    again = _reopened(db_path, db)
    try:
        assert again.changes.all() == [first, second]
        assert again.changes.get("chg-2") == second
    finally:
        again.db.close()


def test_a_missing_change_is_none_or_a_not_found_error(db):
    stores = Stores(db)
    for bad in ("CHG-7", "7x", "", "CHG-"):
        assert stores.changes.find(bad) is None
    with pytest.raises(NotFoundError, match="no change CHG-7"):
        stores.changes.get("CHG-7")


# --- the bundle ---------------------------------------------------------------------------------


def test_the_bundle_builds_each_repository_once_and_counts(db):
    stores = Stores(db)
    assert Stores.of(stores) is stores and Stores.of(db).db is db
    assert stores.incidents is stores.incidents and stores.prompts is stores.prompts
    incident = Incident(id="INC-20260301-001", title="t", prompt_id="summary", prompt_version=1,
                        severity=Severity.P2, detected_by=DetectionMethod.MANUAL, detected_at=T0)
    stores.incidents.insert_incident(incident)
    stores.incidents.add_event(TimelineEvent(incident_id=incident.id, at=T0, kind=EventKind.NOTE, text="n"))
    assert (stores.incidents.incident_count(), stores.incidents.event_count()) == (1, 1)


def test_a_failed_transaction_writes_nothing(db, db_path):
    stores = Stores(db)
    with pytest.raises(RuntimeError), stores.transaction():
        stores.prompts.add_versions([_version("summary", 1)])
        stores.postmortems.save(_postmortem("INC-20260301-001"))
        raise RuntimeError("abandon")
    assert stores.prompts.versions("summary") == [] and stores.postmortems.all() == []
    again = _reopened(db_path, db)
    try:
        assert again.prompts.registry() == {} and again.postmortems.all() == []
    finally:
        again.db.close()
