"""A hand-edited document that cannot become a domain object: a specific error, the rest stays usable."""

from __future__ import annotations

import json

import pytest

from incident_tui.services.incidents import IncidentService
from incident_tui.store.repository import BadDocumentError
from incident_tui.store.storage import open_db


@pytest.fixture
def damaged(tmp_path):
    """Three incidents with timelines; then the file is hand-edited (as a responder would, app closed)."""

    def make(edit) -> tuple:
        path = tmp_path / "db.json"
        db = open_db(path)
        service = IncidentService(db)
        ids = [service.declare(title=f"incident {n}", prompt_id="faq-answer", severity="P2", new_prompt=True,
                               detected_by="manual").id for n in range(3)]
        db.storage.compact()  # everything in the snapshot, ready to hand-edit
        db.close()
        data = json.loads(path.read_text())
        edit(data, ids)
        path.write_text(json.dumps(data))
        return path, ids

    return make


def incident_doc(data, incident_id):
    return next(doc for doc in data["incidents"].values() if doc["id"] == incident_id)


def test_missing_field_names_the_incident_the_file_and_the_field(damaged):
    path, ids = damaged(lambda data, ids: incident_doc(data, ids[1]).pop("severity"))
    db = open_db(path)
    service = IncidentService(db)
    with pytest.raises(BadDocumentError) as info:
        service.get(ids[1])
    assert str(info.value) == f"incident {ids[1]} in {path} lacks field 'severity'"
    # the rest of the database stays usable: the list leaves it out and says so
    assert [i.id for i in service.list()] == [ids[0], ids[2]]
    assert service.repo.skipped == [str(info.value)]
    # and writes to the others go on
    service.note(ids[0], "still works")
    assert "still works" in [e.text for e in service.timeline(ids[0])]
    db.close()


@pytest.mark.parametrize(
    ("field", "value", "expect"),
    [
        ("severity", "P9", "has an invalid 'severity': 'P9'"),
        ("detected_at", "yesterday-ish", "has an invalid 'detected_at': 'yesterday-ish'"),
        ("stage", ["diagnose"], "has an invalid 'stage': ['diagnose']"),
        ("severity", "\x1b]0;PWNED\x07", "has an invalid 'severity': '\\x1b]0;PWNED\\x07'"),
    ],
)
def test_invalid_value_names_the_field_and_the_value(damaged, field, value, expect):
    path, ids = damaged(lambda data, ids: incident_doc(data, ids[0]).update({field: value}))
    db = open_db(path)
    with pytest.raises(BadDocumentError) as info:
        IncidentService(db).get(ids[0])
    assert str(info.value) == f"incident {ids[0]} in {path} {expect}"
    assert "\x1b" not in str(info.value)
    db.close()


def test_incident_without_an_id_is_named_by_its_document_id(damaged):
    def edit(data, ids):
        doc_id = next(k for k, doc in data["incidents"].items() if doc["id"] == ids[2])
        del data["incidents"][doc_id]["id"]

    path, ids = damaged(edit)
    db = open_db(path)
    service = IncidentService(db)
    assert [i.id for i in service.list()] == ids[:2]
    [line] = service.repo.skipped
    assert line.startswith("incident document ") and line.endswith(f"in {path} lacks field 'id'")
    # a new incident still gets a fresh id
    new = service.declare(title="after", prompt_id="faq-answer", severity="P3", detected_by="manual",
                          new_prompt=True)
    assert new.id not in ids
    db.close()


def test_bad_timeline_event_is_left_out_of_the_timeline_and_named(damaged):
    def edit(data, ids):
        event = next(doc for doc in data["events"].values() if doc["incident_id"] == ids[0])
        del event["at"]

    path, ids = damaged(edit)
    db = open_db(path)
    service = IncidentService(db)
    service.note(ids[0], "later note")
    events = service.timeline(ids[0])
    assert [e.text for e in events][-1] == "later note"
    [line] = service.repo.skipped
    assert line.startswith("timeline event document ") and f"of {ids[0]} in {path} lacks field 'at'" in line
    db.close()


def test_cli_show_is_one_line_and_list_warns_but_lists_the_rest(damaged, run_cli):
    path, ids = damaged(lambda data, ids: incident_doc(data, ids[1]).pop("severity"))
    shown = run_cli("--db", path, "show", ids[1])
    assert shown.returncode == 1
    assert shown.stderr == f"incident-tui: error: incident {ids[1]} in {path} lacks field 'severity'\n"
    listed = run_cli("--db", path, "list")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [ids[0], ids[2]]
    assert listed.stderr.count("\n") == 1
    assert f"warning: incident {ids[1]} in {path} lacks field 'severity'" in listed.stderr
    as_json = run_cli("--db", path, "list", "--json")
    assert [i["id"] for i in json.loads(as_json.stdout)] == [ids[0], ids[2]]
