"""The everyday paths never load every timeline event: only the incident they show or write to.

A database with a few incidents is compacted (its events then sit in the snapshot's segment), and
loading the whole events table is made to fail: ``note``, ``declare``, ``list`` and ``show`` from the
CLI, and the repository's timeline, star and event lookup, must all still work.
"""

from __future__ import annotations

import pytest

from incident_tui.store.repository import Repository
from incident_tui.store.segment_table import SegmentedTable
from incident_tui.store.storage import open_db

DECLARE = ["declare", "--prompt", "p", "--severity", "P2", "--detected-by", "manual", "--new-prompt", "--title"]


@pytest.fixture
def history(run, db_path):
    """Three incidents with notes (hostile text among them), compacted; returns their ids."""
    ids = []
    for n, title in enumerate(["first", "second \u2028 line", 'third "quoted"']):
        result = run(*DECLARE, title)
        assert result.exit_code == 0, result.output
        ids.append(result.output.strip())
        for k in range(3):
            assert run("note", ids[-1], f"note {k} of {n} \x1b[31m\u2028 🧯").exit_code == 0
    db = open_db(db_path)
    db.storage.compact()
    db.close()
    return ids


@pytest.fixture
def no_full_load(monkeypatch):
    def refuse(self):
        raise AssertionError("every timeline event was loaded")

    monkeypatch.setattr(SegmentedTable, "base", refuse)


def test_cli_everyday_commands_load_no_other_timeline(run, db_path, history, no_full_load):
    assert run("note", history[1], "after the compaction").exit_code == 0
    result = run(*DECLARE, "fourth")
    assert result.exit_code == 0, result.output
    listed = run("list", "--all")
    assert listed.exit_code == 0 and all(i in listed.output for i in history)
    assert run("show", history[2]).exit_code == 0
    db = open_db(db_path)
    repo = Repository(db)
    assert db.storage.is_segmented("events")
    texts = [e.text for e in repo.timeline(history[1])]
    assert "after the compaction" in texts and [t for t in texts if t.startswith("note 2 of 1") and "🧯" in t]
    assert not [t for t in texts if "of 0" in t or "of 2" in t]
    db.close()


def test_repository_star_and_lookup_load_no_other_timeline(db_path, history, no_full_load):
    db = open_db(db_path)
    repo = Repository(db)
    event = repo.timeline(history[0])[1]
    again = repo.get_event(event.doc_id)
    assert again.text == event.text and again.incident_id == history[0]
    event.starred = True
    repo.save_event(event)
    assert [e.starred for e in repo.timeline(history[0]) if e.doc_id == event.doc_id] == [True]
    assert db.storage.is_segmented("events")
    assert set(repo.incident_ids()) == set(history)
    db.close()
    db = open_db(db_path)
    assert Repository(db).get_event(event.doc_id).starred is True
    db.close()


def test_timeline_merges_snapshot_and_journal_in_time_order(db_path, history, run):
    # Notes written after the compaction live in the journal; another handle sees them merged.
    assert run("note", history[0], "late note").exit_code == 0
    db = open_db(db_path)
    timeline = Repository(db).timeline(history[0])
    assert timeline[-1].text == "late note"
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    assert len(timeline) == len({e.doc_id for e in timeline})
    db.close()
