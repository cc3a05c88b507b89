"""Alert ingestion into the store: declare, dedupe, resolved handling, refused alerts."""

import copy
import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_tui.config import AlertsConfig, Config
from incident_tui.domain.alerts import PayloadError
from incident_tui.domain.models import EventKind, Incident, Stage
from incident_tui.domain.prompts import UNASSIGNED
from incident_tui.services.alerts import AlertService
from incident_tui.services.incidents import IncidentService
from incident_tui.store.repository import Repository
from incident_tui.store.storage import open_db

PAYLOADS = Path(__file__).parent / "payloads"


def load(name):
    return json.loads((PAYLOADS / name).read_text())


@pytest.fixture
def service(db, clock):
    return AlertService(db, config=Config(user="ana"), clock=clock)


def incidents(db):
    return Repository(db).list_incidents()


def alert_lines(db, incident_id):
    return [e for e in Repository(db).timeline(incident_id) if e.kind is EventKind.ALERT]


def test_firing_group_declares_one_incident(service, db, clock):
    report = service.ingest("alertmanager", load("alertmanager_firing.json"))
    assert report.ok and [r.action for r in report.results] == ["created", "updated"]
    (incident,) = incidents(db)
    assert report.incident_ids == [incident.id]
    assert incident.title == "Refund hallucination rate > 2%"
    assert (incident.prompt_id, incident.prompt_version, incident.severity.value) == ("support-summary", 7, "P1")
    assert incident.detected_by.value == "alert" and incident.detected_at == clock.now
    assert incident.commander == ""  # a machine declared it; nobody has taken command yet
    # startsAt 12:50:00.12Z, detected 14:02+01:00 = 13:02Z
    assert incident.detection_gap == timedelta(minutes=11, seconds=59, microseconds=876544)
    assert set(incident.alert_keys) == {
        "alertmanager:fp:5f2a9c0e4b7d1a36",
        "alertmanager:fp:c03b81d2aa9e4f70",
        'alertmanager:group:support-summary:{}/{severity=~"critical|warning"}:{prompt_id="support-summary"}',
    }
    texts = [e.text for e in Repository(db).timeline(incident.id)]
    assert texts[0] == "Impact start"
    assert texts[1].startswith('Detection: alert fired: "Refund hallucination rate > 2%"')
    lines = [e.text for e in alert_lines(db, incident.id)]
    assert lines == [
        'Alert firing: "Refund hallucination rate > 2%" (RefundHallucinationRate)',
        "Alert source: http://prometheus.example.org:9090/graph?g0.expr=refund_hallucination_rate+%3E+0.02&g0.tab=1",
        "Runbook: https://runbooks.example.org/prompts/support-summary",
        'Alert firing: "p95 summary length above 900 tokens" (SummaryLengthP95)',
        "Alert source: http://prometheus.example.org:9090/graph?g0.expr=summary_tokens_p95+%3E+900&g0.tab=1",
    ]
    assert all(e.author == "alertmanager" for e in alert_lines(db, incident.id))


def test_resend_changes_nothing(service, db, clock):
    service.ingest("alertmanager", load("alertmanager_firing.json"))
    before = len(Repository(db).events)
    clock.advance(minutes=5)
    report = service.ingest("alertmanager", load("alertmanager_firing.json"))
    assert [r.action for r in report.results] == ["unchanged", "unchanged"]
    assert len(incidents(db)) == 1 and len(Repository(db).events) == before


def test_resolved_stamps_the_timeline_and_never_closes(service, db, clock):
    service.ingest("alertmanager", load("alertmanager_firing.json"))
    clock.advance(minutes=45)
    report = service.ingest("alertmanager", load("alertmanager_resolved.json"))
    assert [r.action for r in report.results] == ["resolved", "unchanged"]
    (incident,) = incidents(db)
    assert incident.is_open and incident.stage is Stage.DETECT and incident.impact_resolved_at is None
    resolved = alert_lines(db, incident.id)[-1]
    assert resolved.text == 'Alert resolved: "Refund hallucination rate > 2%"'
    # stamped when it resolved (13:40Z), in our zone, and marked as backdated
    assert resolved.at == datetime(2026, 11, 25, 13, 40, tzinfo=timezone.utc)
    assert resolved.at.utcoffset() == timedelta(hours=1) and resolved.backdated
    again = service.ingest("alertmanager", load("alertmanager_resolved.json"))
    assert [r.action for r in again.results] == ["unchanged", "unchanged"]


def test_refire_after_resolve_joins_the_same_open_incident(service, db, clock):
    service.ingest("alertmanager", load("alertmanager_firing.json"))
    service.ingest("alertmanager", load("alertmanager_resolved.json"))
    payload = load("alertmanager_firing.json")
    payload["alerts"][0]["startsAt"] = "2026-11-25T13:55:00Z"
    clock.advance(hours=1)
    report = service.ingest("alertmanager", payload)
    assert [r.action for r in report.results] == ["updated", "unchanged"]
    assert "firing again" in report.results[0].message
    assert len(incidents(db)) == 1
    assert alert_lines(db, incidents(db)[0].id)[-1].text.startswith('Alert firing again: "Refund')


def test_after_close_a_new_firing_declares_a_new_incident(service, db, clock):
    first = service.ingest("alertmanager", load("alertmanager_firing.json")).incident_ids[0]
    IncidentService(db, clock=clock).advance(first, Stage.CLOSED)
    clock.advance(days=1)
    report = service.ingest("alertmanager", load("alertmanager_firing.json"))
    assert report.results[0].action == "created" and report.incident_ids[0] != first
    assert len(incidents(db)) == 2


def test_one_group_with_two_prompts_gives_two_incidents(service, db):
    payload = load("alertmanager_firing.json")
    payload["alerts"][1]["labels"]["prompt_id"] = "faq-answer"
    report = service.ingest("alertmanager", payload)
    assert [r.action for r in report.results] == ["created", "created"]
    assert sorted(i.prompt_id for i in incidents(db)) == ["faq-answer", "support-summary"]


def test_group_member_arriving_later_joins_by_group_key(service, db, clock):
    payload = load("alertmanager_firing.json")
    later = payload["alerts"].pop(1)
    service.ingest("alertmanager", payload)
    payload["alerts"] = [later]
    clock.advance(minutes=3)
    report = service.ingest("alertmanager", payload)
    assert report.results[0].action == "updated" and len(incidents(db)) == 1
    assert "alertmanager:fp:c03b81d2aa9e4f70" in incidents(db)[0].alert_keys


def test_a_group_key_stays_with_one_open_incident(service, db):
    # Found by hypothesis: an alert first seen without a group key, then re-sent in a group
    # that already has its own incident, must not make two open incidents share the key.
    alone = {"version": "4", "alerts": [{"status": "firing", "fingerprint": "f1",
                                         "labels": {"alertname": "A", "prompt_id": "support-summary"}}]}
    first = service.ingest("alertmanager", alone).incident_ids[0]
    grouped = {"version": "4", "groupKey": "g1", "alerts": [
        {"status": "firing", "fingerprint": "f2", "labels": {"alertname": "B", "prompt_id": "support-summary"}},
        {"status": "firing", "fingerprint": "f1", "labels": {"alertname": "A", "prompt_id": "support-summary"}},
    ]}
    report = service.ingest("alertmanager", grouped)
    assert [r.action for r in report.results] == ["created", "unchanged"]
    owners = [i.id for i in incidents(db) if "alertmanager:group:support-summary:g1" in i.alert_keys]
    assert owners == [report.incident_ids[0]] and first not in owners


def test_resolved_alert_without_incident_is_ignored_and_writes_nothing(service, db):
    report = service.ingest("grafana", load("grafana_resolved.json"))
    assert report.ok and report.results[0].action == "ignored" and report.incident_ids == []
    assert incidents(db) == [] and len(Repository(db).events) == 0


def test_grafana_firing_then_resolved(service, db, clock):
    report = service.ingest("grafana", load("grafana_firing.json"))
    (incident,) = incidents(db)
    assert report.results[0].action == "created"
    assert (incident.prompt_id, incident.prompt_version, incident.severity.value) == ("faq-answer", 12, "P2")
    assert incident.impact_started_at == datetime(2026, 11, 24, 9, 15, tzinfo=timezone(timedelta(hours=1)))
    lines = [e.text for e in alert_lines(db, incident.id)]
    assert lines[0].startswith('Alert firing: "Groundedness score below 0.8 for faq-answer" (FAQ answer groundedness) — [ var=')
    assert [line.split(":")[0] for line in lines[1:]] == ["Alert source", "Runbook", "Dashboard", "Panel"]
    clock.advance(minutes=10)
    report = service.ingest("grafana", load("grafana_resolved.json"))
    assert report.results[0].action == "resolved" and incidents(db)[0].is_open


def test_same_fingerprint_from_the_other_sender_is_another_alert(service, db):
    service.ingest("grafana", load("grafana_firing.json"))
    payload = load("alertmanager_firing.json")
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["fingerprint"] = "8d6f1e2b9a0c4d11"
    service.ingest("alertmanager", payload)
    assert len(incidents(db)) == 2


def test_malformed_payload_refuses_bad_alerts_and_keeps_the_good_one(service, db):
    report = service.ingest("alertmanager", load("alertmanager_malformed.json"))
    assert not report.ok
    assert sorted(e.index for e in report.errors) == [0, 1, 2, 3, 5]
    # The alert without a prompt label is not refused: it opens an unassigned incident.
    unassigned, incident = sorted(incidents(db), key=lambda i: i.prompt_id)
    assert unassigned.prompt_id == UNASSIGNED and unassigned.title == "which prompt?"
    assert incident.title == "Answers too long" and incident.severity.value == "P2"
    lines = [e.text for e in alert_lines(db, incident.id)]
    assert "Alert payload: generatorURL dropped: not an http(s) link" in lines
    assert not any("javascript" in line for line in lines)


def test_alert_without_prompt_label_may_still_join_by_fingerprint(service, db):
    service.ingest("alertmanager", load("alertmanager_firing.json"))
    payload = load("alertmanager_firing.json")
    del payload["alerts"][0]["labels"]["prompt_id"]
    payload["alerts"][0]["startsAt"] = "2026-11-25T13:00:00Z"
    report = service.ingest("alertmanager", payload)
    assert report.ok and report.results[0].action == "updated"


def test_payload_error_writes_nothing(service, db):
    with pytest.raises(PayloadError):
        service.ingest("alertmanager", {"alerts": "nope"})
    assert incidents(db) == []


def test_a_failure_mid_alert_leaves_nothing_of_that_alert(service, db, monkeypatch):
    """declare, the group key and the alert lines are one transaction: all or nothing."""
    real_add_event = service.repo.add_event

    def failing_add_event(event):
        if event.kind is EventKind.ALERT and event.meta.get("fingerprint") == "c03b81d2aa9e4f70":
            raise OSError("disk full")
        return real_add_event(event)

    payload = load("alertmanager_firing.json")
    payload["alerts"][1]["labels"]["prompt_id"] = "faq-answer"  # its own incident
    monkeypatch.setattr(service.repo, "add_event", failing_add_event)
    with pytest.raises(OSError):
        service.ingest("alertmanager", payload)
    (incident,) = incidents(db)  # the first alert's incident is whole; the second left nothing
    assert incident.prompt_id == "support-summary"
    assert all(doc["incident_id"] == incident.id for doc in Repository(db).events)


def test_configured_labels_and_severities(db, clock):
    config = Config(alerts=AlertsConfig(prompt_label="team_prompt", severity_label="level",
                                        severity_map={"sev1": "P1"}, default_severity="P2"))
    payload = load("alertmanager_firing.json")
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["labels"] = {"alertname": "X", "team_prompt": "routing", "level": "SEV1"}
    AlertService(db, config=config, clock=clock).ingest("alertmanager", payload)
    (incident,) = incidents(db)
    assert (incident.prompt_id, incident.severity.value, incident.prompt_version) == ("routing", "P1", None)


def test_report_json_shape(service):
    report = service.ingest("alertmanager", load("alertmanager_malformed.json"))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["kind"] == "alertmanager"
    assert data["results"][0]["action"] == "created" and data["errors"][0]["text"] == "alerts[0]: missing labels"


# --- hypothesis: arbitrary payloads never raise and never leave a half-written incident --------

good_alerts = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["firing", "firing", "resolved"]),
        "labels": st.fixed_dictionaries(
            {"alertname": st.sampled_from(["A", "B"]), "prompt_id": st.sampled_from(["support-summary", "faq-answer"])},
            optional={"severity": st.sampled_from(["critical", "warning", "info"]),
                      "prompt_version": st.sampled_from(["7", "v8", "x"])},
        ),
        "fingerprint": st.sampled_from(["f1", "f2", "f3"]),
    },
    optional={
        "annotations": st.fixed_dictionaries({}, optional={"summary": st.text(max_size=30),
                                                           "runbook_url": st.sampled_from(["https://rb/1", "x"])}),
        "startsAt": st.sampled_from(["2026-11-25T12:00:00Z", "2026-11-25T13:30:00+01:00", "2099-01-01T00:00:00Z"]),
        "endsAt": st.sampled_from(["2026-11-25T12:30:00Z", "0001-01-01T00:00:00Z"]),
        "generatorURL": st.sampled_from(["http://prom/graph", "javascript:x", ""]),
    },
)
# One field of a good alert replaced by something wrong (or removed).
broken_fields = st.sampled_from(["status", "labels", "annotations", "startsAt", "fingerprint", "generatorURL"])
wrong_values = st.sampled_from([None, 5, "bad", [], {"x": 1}, "p\x1b[31m" * 3, "9" * 5000])


@st.composite
def alerts(draw):
    alert = draw(good_alerts)
    if draw(st.integers(0, 5)) == 0:
        alert["labels"] = dict(alert["labels"], prompt_id=draw(st.sampled_from(["", "p\x1b]0;t\x07"])))
    if draw(st.integers(0, 3)) == 0:
        alert[draw(broken_fields)] = draw(wrong_values)
    return alert


batches = st.lists(
    st.fixed_dictionaries(
        {"alerts": st.lists(st.one_of(alerts(), alerts(), alerts(), st.integers(), st.text(max_size=5)), max_size=5)},
        optional={"version": st.sampled_from(["4", "4", "4", "1", 4]),
                  "groupKey": st.sampled_from(["g1", "g1", "g2", "", 9])},
    ),
    min_size=1,
    max_size=3,
)


def assert_store_is_whole(db):
    """Every incident is complete and every timeline line belongs to one."""
    repo = Repository(db)
    docs = list(repo.incidents)
    ids = set()
    for doc in docs:
        incident = Incident.from_dict(doc)  # raises on a half-written document
        ids.add(incident.id)
        assert incident.alert_keys and incident.detected_by.value == "alert"
        kinds = [e.kind for e in repo.timeline(incident.id)]
        assert EventKind.DETECTION in kinds and EventKind.ALERT in kinds
    assert len(ids) == len(docs)
    assert all(doc["incident_id"] in ids for doc in repo.events)
    # No two open incidents claim the same alert key.
    keys = [k for doc in docs if doc["stage"] != "closed" for k in doc["alert_keys"]]
    assert len(keys) == len(set(keys))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches)
def test_generated_payloads_never_raise_nor_half_write(batch):
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "db.json")
        try:
            now = datetime(2026, 11, 25, 14, 2, tzinfo=timezone(timedelta(hours=1)))
            service = AlertService(db, config=Config(user="t"), clock=lambda: now)
            for payload in batch:
                try:
                    report = service.ingest("alertmanager", copy.deepcopy(payload))
                except PayloadError:
                    continue
                for result in report.results:
                    assert result.action in ("created", "updated", "resolved", "unchanged", "ignored")
                assert_store_is_whole(db)
            assert_store_is_whole(db)
        finally:
            db.close()


# --- an alert is never dropped: no prompt label opens an unassigned incident ---------------------


def unlabelled(payload):
    for alert in payload["alerts"]:
        alert["labels"].pop("prompt_id", None)
        alert["labels"].pop("prompt_version", None)
    return payload


def test_alerts_without_prompt_label_open_one_unassigned_incident_with_their_labels(service, db, clock):
    report = service.ingest("alertmanager", unlabelled(load("alertmanager_firing.json")))
    assert report.ok and [r.action for r in report.results] == ["created", "updated"]
    (incident,) = incidents(db)
    assert (incident.prompt_id, incident.prompt_version) == (UNASSIGNED, None)
    assert incident.title == "Refund hallucination rate > 2%"
    lines = [e.text for e in alert_lines(db, incident.id)]
    assert lines[0] == 'Alert firing: "Refund hallucination rate > 2%" (RefundHallucinationRate)'
    assert any(line.startswith("Alert payload: no 'prompt_id' label: prompt unassigned; set it during triage")
               for line in lines)
    assert "Alert labels: alertname=RefundHallucinationRate, severity=critical, team=support-ml" in lines
    assert 'Alert firing: "p95 summary length above 900 tokens" (SummaryLengthP95)' in lines
    # The detection line names the sentinel as it is.
    assert f"{UNASSIGNED} unknown version" in Repository(db).timeline(incident.id)[1].text

    # Re-sends change nothing: same incident, no new line.
    before = len(Repository(db).events)
    clock.advance(minutes=5)
    again = service.ingest("alertmanager", unlabelled(load("alertmanager_firing.json")))
    assert [r.action for r in again.results] == ["unchanged", "unchanged"]
    assert len(incidents(db)) == 1 and len(Repository(db).events) == before


def test_grafana_alert_without_prompt_label_is_not_dropped(service, db):
    payload = unlabelled(load("grafana_firing.json"))
    report = service.ingest("grafana", payload)
    assert report.ok and report.results[0].action == "created"
    assert {i.prompt_id for i in incidents(db)} == {UNASSIGNED}
    assert service.ingest("grafana", payload).results[0].action == "unchanged"


def test_unassigned_incident_gets_its_prompt_in_triage_and_containment_waits_for_it(db, clock, tmp_path):
    from incident_tui.config import HookConfig
    from incident_tui.services.incidents import ServiceError
    from incident_tui.services.prompts import PromptService

    ran = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {ran}\n")
    hook.chmod(0o755)
    config = Config(user="ana", hooks=HookConfig(rollback=[str(hook)], kill_switch=[str(hook)], timeout=10))
    alerts = AlertService(db, config=config, clock=clock)
    svc = alerts.incidents
    incident_id = alerts.ingest("alertmanager", unlabelled(load("alertmanager_firing.json"))).incident_ids[0]

    for contain in (svc.rollback, svc.kill_switch):
        with pytest.raises(ServiceError, match="prompt is unassigned: set it first"):
            contain(incident_id)
    assert not ran.exists() and svc.get(incident_id).contained_at is None

    prompts = PromptService(db, clock=clock)
    for n in range(1, 8):
        prompts.add("support-summary", f"support summary rules, revision {n}\n")
    svc.triage(incident_id, "prompt-quality", "v7 dropped the refund rule", prompt_id="support-summary", version=7)
    got = svc.get(incident_id)
    assert (got.prompt_id, got.prompt_version) == ("support-summary", 7)
    assert f"Prompt changed: {UNASSIGNED} → support-summary v7" in [e.text for e in svc.timeline(incident_id)]

    # The same alerts again still join this incident, and change nothing.
    again = alerts.ingest("alertmanager", unlabelled(load("alertmanager_firing.json")))
    assert again.incident_ids == [incident_id] and {r.action for r in again.results} == {"unchanged"}

    result = svc.rollback(incident_id)
    assert result.contained and ran.exists() and result.plan.to_version == 6


def test_alert_for_an_unregistered_prompt_or_version_is_still_recorded(service, db, clock):
    from incident_tui.services.prompts import PromptService

    report = service.ingest("alertmanager", load("alertmanager_firing.json"))  # registry empty: declared as new
    (incident,) = incidents(db)
    assert report.ok and (incident.prompt_id, incident.prompt_version) == ("support-summary", 7)

    prompts = PromptService(db, clock=clock)
    for n in range(1, 4):
        prompts.add("faq-answer", f"faq rules {n}\n")
    prompts.move_label("faq-answer", "production", 3, "ana", "release")
    payload = load("alertmanager_firing.json")
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["labels"].update(prompt_id="faq-answer", prompt_version="99")
    payload["alerts"][0]["fingerprint"] = "ffff000000000001"
    payload["groupKey"] = "faq"
    created = service.ingest("alertmanager", payload)
    faq = service.incidents.get(created.incident_ids[0])
    assert (faq.prompt_id, faq.prompt_version) == ("faq-answer", 3)
    assert ("Alert payload: label prompt_version=99 is not a registered version of faq-answer; "
            "the production version is used") in [e.text for e in alert_lines(db, faq.id)]


def test_the_report_says_the_prompt_is_unassigned(service):
    report = service.ingest("alertmanager", unlabelled(load("alertmanager_firing.json")))
    assert "(P1, prompt unassigned: set it in triage): Refund hallucination rate > 2%" in report.results[0].message
