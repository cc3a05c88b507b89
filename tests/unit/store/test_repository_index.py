"""The repository's id indexes (incident id -> document, incident -> events) never go stale.

They are kept up to date by our own writes and rebuilt when anything else changed the table:
another process, another handle, a rolled-back transaction.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from incident_tui.domain.models import EventKind, TimelineEvent
from incident_tui.store.repository import NotFoundError, Repository
from incident_tui.store.storage import open_db, transaction

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _incident_doc(ident: str, title: str = "t") -> dict:
    return {
        "id": ident, "title": title, "prompt_id": "p", "version": 1, "severity": "P2", "detected_by": "manual",
        "stage": "triage", "started_at": AT.isoformat(), "detected_at": AT.isoformat(),
        "declared_at": AT.isoformat(),
    }


def _event(incident_id: str, text: str) -> TimelineEvent:
    return TimelineEvent(incident_id=incident_id, at=AT, kind=EventKind.NOTE, text=text, author="ana")


@pytest.fixture
def repo(db):
    repo = Repository(db)
    for n in range(1, 4):
        db.table("incidents").insert(_incident_doc(f"INC-20260301-00{n}", f"title {n}"))
    return repo


def test_find_sees_incidents_another_process_wrote(repo, db_path):
    assert repo.find_incident("INC-20260301-004") is None
    other = open_db(db_path)
    other.table("incidents").insert(_incident_doc("INC-20260301-004", "from elsewhere"))
    other.table("incidents").update({"title": "renamed elsewhere"}, doc_ids=[1])
    other.close()
    repo.db.storage.refresh()
    assert repo.find_incident("INC-20260301-004").title == "from elsewhere"
    assert repo.get_incident("INC-20260301-001").title == "renamed elsewhere"
    assert "INC-20260301-004" in repo.incident_ids()


def test_save_after_another_process_removed_the_incident_is_not_found(repo, db_path):
    incident = repo.get_incident("INC-20260301-002")
    other = open_db(db_path)
    other.table("incidents").remove(doc_ids=[2])
    other.close()
    incident.title = "lost?"
    with pytest.raises(NotFoundError):
        repo.save_incident(incident)  # the write catches up first: the document is gone
    assert repo.find_incident("INC-20260301-002") is None
    assert [i.title for i in repo.list_incidents()] == ["title 1", "title 3"]


def test_rolled_back_insert_leaves_no_trace_in_the_index(repo):
    incident = repo.get_incident("INC-20260301-001")
    incident.id = "INC-20260301-009"
    with pytest.raises(RuntimeError), transaction(repo.db):
        repo.insert_incident(incident)
        assert repo.find_incident("INC-20260301-009") is not None
        raise RuntimeError("abandon")
    assert repo.find_incident("INC-20260301-009") is None
    assert "INC-20260301-009" not in repo.incident_ids()


def test_duplicate_ids_update_every_copy_as_before(repo):
    # A hand-edited file may hold two documents with one id: both are written, the first is read.
    repo.db.table("incidents").insert(_incident_doc("INC-20260301-001", "copy"))
    incident = repo.get_incident("INC-20260301-001")
    assert incident.title == "title 1"
    incident.title = "both"
    repo.save_incident(incident)
    titles = [d["title"] for d in repo.db.table("incidents") if d["id"] == "INC-20260301-001"]
    assert titles == ["both", "both"]


def test_an_incident_without_an_id_keeps_its_events_ids_taken(repo):
    repo.add_event(_event("INC-20260301-007", "orphan's note"))
    repo.db.table("incidents").insert({"title": "lost its id"})
    assert "INC-20260301-007" in repo.incident_ids(containing="20260301")
    assert repo.incident_ids(containing="20260302") == []


def test_timeline_follows_own_and_foreign_appends(repo, db_path):
    repo.add_event(_event("INC-20260301-001", "one"))
    assert [e.text for e in repo.timeline("INC-20260301-001")] == ["one"]
    repo.add_event(_event("INC-20260301-001", "two"))
    repo.add_event(_event("INC-20260301-002", "other"))
    assert [e.text for e in repo.timeline("INC-20260301-001")] == ["one", "two"]
    other = open_db(db_path)
    other.table("events").insert(_event("INC-20260301-001", "three").to_dict())
    other.close()
    repo.db.storage.refresh()
    assert [e.text for e in repo.timeline("INC-20260301-001")] == ["one", "two", "three"]
    event = repo.timeline("INC-20260301-002")[0]
    event.incident_id = "INC-20260301-003"  # moved to another incident: the index must follow
    repo.save_event(event)
    assert repo.timeline("INC-20260301-002") == []
    assert [e.text for e in repo.timeline("INC-20260301-003")] == ["other"]


def test_rolled_back_event_is_not_in_the_timeline(repo):
    repo.add_event(_event("INC-20260301-001", "kept"))
    repo.timeline("INC-20260301-001")
    with pytest.raises(RuntimeError), transaction(repo.db):
        repo.add_event(_event("INC-20260301-001", "undone"))
        raise RuntimeError("abandon")
    assert [e.text for e in repo.timeline("INC-20260301-001")] == ["kept"]


def test_synthetic_demo_commits_in_batches(db, tmp_path, monkeypatch):
    from incident_tui.demo import SYNTHETIC_BATCH, seed_demo
    from incident_tui.store.storage import JournalStorage

    commits: list[int] = []
    real = JournalStorage._commit

    def counting(self, hw_before):
        if self._ops:
            commits.append(len(self._ops))
        return real(self, hw_before)

    monkeypatch.setattr(JournalStorage, "_commit", counting)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    story = open_db(tmp_path / "story.json")
    seed_demo(story, now=now)
    story.close()
    story_commits = len(commits)
    commits.clear()
    seed_demo(db, incidents=SYNTHETIC_BATCH + 5, now=now)
    # The story commits once per service call; the synthetic incidents once per batch.
    assert len(commits) == story_commits + 2
    incidents = db.table("incidents").all()
    assert len(incidents) == SYNTHETIC_BATCH + 5 + 4
    assert len({d["id"] for d in incidents}) == len(incidents)  # ids unique across batches
    assert len(db.table("events")) > 40 * (SYNTHETIC_BATCH + 5)
