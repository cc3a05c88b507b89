"""One definition of each word the app accepts: the domain enums and parsers feed the CLI's
choices, the dashboard's pickers and the services alike."""

from datetime import datetime, timedelta, timezone

import click
import pytest

from incident_tui.cli import main
from incident_tui.cli_alerts import ingest, metrics
from incident_tui.cli_changes import change
from incident_tui.cli_prompts import prompts
from incident_tui.domain.alerts import KINDS, AlertMapping, AlertRecord, version_of
from incident_tui.domain.changes import ChangeKind
from incident_tui.domain.models import DetectionMethod, Milestone, Severity, TriageCategory
from incident_tui.domain.prompts import LABELS, parse_version
from incident_tui.services.incidents import IncidentService, ServiceError, check_declaration

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=timezone(timedelta(hours=1)))


@pytest.mark.parametrize("text, expected", [
    ("7", 7), ("v7", 7), ("V7", 7), ("  v12 ", 12), ("007", 7), ("123456789", 123456789),
    ("", None), ("v", None), ("vv7", None), ("7.1", None), ("-7", None), ("seven", None),
    ("1234567890", None), ("v7\nv8", None), ("7 ", 7),
])
def test_a_version_is_read_one_way(text, expected):
    assert parse_version(text) == expected


def test_an_alert_label_reads_versions_as_the_forms_do():
    mapping = AlertMapping()
    for raw in ("V12", "vv12", "12.0"):
        alert = AlertRecord(source="alertmanager", index=0, status="firing", fingerprint="f", group_key="g",
                            labels={mapping.version_label: raw}, annotations={})
        assert version_of(alert, mapping)[0] == parse_version(raw)


def _choices(command: click.Command, name: str) -> list[str]:
    param = next(p for p in command.params if p.name == name)
    assert isinstance(param.type, click.Choice)
    return list(param.type.choices)


def test_cli_choices_are_the_domain_enums_in_their_order():
    assert _choices(main.commands["declare"], "severity") == [s.value for s in Severity]
    assert _choices(main.commands["declare"], "detected_by") == [d.value for d in DetectionMethod]
    assert _choices(main.commands["triage"], "category") == [c.value for c in TriageCategory]
    assert _choices(main.commands["milestone"], "which") == [m.value for m in Milestone]
    assert _choices(metrics, "severity") == [s.value for s in Severity]
    assert _choices(ingest, "kind") == list(KINDS)
    assert _choices(change.commands["add"], "kind") == [k.value for k in ChangeKind]
    assert _choices(prompts.commands["label"], "label") == list(LABELS)


def test_the_service_refuses_an_unknown_milestone_naming_every_one(db):
    service = IncidentService(db, clock=lambda: NOW)
    incident = service.declare(title="t", prompt_id="p", severity="P2", detected_by="manual", new_prompt=True)
    with pytest.raises(ServiceError) as refused:
        service.milestone(incident.id, "impact-resolve")
    assert str(refused.value) == ("unknown milestone 'impact-resolve' (one of: impact-resolved, root-cause, staging, "
                                  "promoted, closed)")
    stamped = service.milestone(incident.id, Milestone.IMPACT_RESOLVED)
    assert stamped.impact_resolved_at == NOW
    assert service.timeline(incident.id)[-1].meta["milestone"] == "impact-resolved"


@pytest.mark.parametrize("title, prompt, started, message", [
    ("  ", "p", None, "a title is required"),
    ("t", "\x1b[31m", None, "a prompt id is required"),
    ("t", "p", NOW + timedelta(minutes=1), "impact start is after detection; give a time in the past"),
    ("t" * 5000, "p", None, "the title is too long"),
])
def test_declaration_rules_are_one_function(db, title, prompt, started, message):
    with pytest.raises(ServiceError, match=message.replace("(", r"\(")):
        check_declaration(title, prompt, started_at=started, detected_at=NOW)
    with pytest.raises(ServiceError, match=message.replace("(", r"\(")):
        IncidentService(db, clock=lambda: NOW).declare(title=title, prompt_id=prompt, severity="P1",
                                                       detected_by="alert", started_at=started, new_prompt=True)
    assert IncidentService(db).list(include_closed=True) == []


def test_declaration_rules_clean_what_they_pass():
    assert check_declaration(" Refunds\tinvented ", " support-summary ") == ("Refunds invented", "support-summary")
