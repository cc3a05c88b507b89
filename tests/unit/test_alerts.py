"""The webhook parsers and the alert → incident mapping (pure domain, no store)."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_tui.config import ConfigError, load_config
from incident_tui.domain.prompts import UNASSIGNED
from incident_tui.domain.alerts import (
    MAX_ALERTS,
    MAX_ANNOTATION,
    MAX_TITLE,
    AlertMapping,
    PayloadError,
    declare_params,
    detect_kind,
    fingerprint_key,
    group_key_for,
    labels_fingerprint,
    parse_alertmanager,
    parse_grafana,
    parse_payload,
    parse_time,
    severity_for,
)

PAYLOADS = Path(__file__).parent / "payloads"
UTC = timezone.utc
NOW = datetime(2026, 11, 25, 14, 2, tzinfo=timezone(timedelta(hours=1)))


def load(name):
    return json.loads((PAYLOADS / name).read_text())


def one_alert(**fields):
    alert = {"status": "firing", "labels": {"alertname": "A", "prompt_id": "p"}, "fingerprint": "f1"}
    alert.update(fields)
    return {"version": "4", "groupKey": "g", "alerts": [alert]}


# --- Alertmanager ------------------------------------------------------------------------


def test_alertmanager_sample_reads_every_field():
    parsed = parse_alertmanager(load("alertmanager_firing.json"))
    assert parsed.kind == "alertmanager" and not parsed.errors and parsed.receiver == "incident-tui"
    first, second = parsed.alerts
    assert first.status == "firing" and first.firing
    assert first.fingerprint == "5f2a9c0e4b7d1a36" and not first.fingerprint_derived
    assert first.group_key == parsed.group_key and parsed.group_key.startswith("{}/")
    assert first.name == "RefundHallucinationRate"
    assert first.summary == "Refund hallucination rate > 2%"
    # Go writes nanoseconds; we keep microseconds.
    assert first.starts_at == datetime(2026, 11, 25, 12, 50, 0, 123456, tzinfo=UTC)
    assert first.ends_at is None  # Go's zero time while firing
    assert first.generator_url.startswith("http://prometheus.example.org:9090/graph?")
    assert first.runbook_url == "https://runbooks.example.org/prompts/support-summary"
    assert [what for what, _ in first.links] == ["Alert source", "Runbook"]
    assert second.labels["prompt_version"] == "v7" and second.runbook_url == ""
    assert json.dumps(first.to_dict())  # serialisable for --json


def test_alertmanager_resolved_sample():
    parsed = parse_alertmanager(load("alertmanager_resolved.json"))
    resolved, still_firing = parsed.alerts
    assert resolved.status == "resolved" and resolved.ends_at == datetime(2026, 11, 25, 13, 40, tzinfo=UTC)
    assert still_firing.status == "firing"


def test_truncated_alerts_is_a_warning():
    payload = load("alertmanager_firing.json")
    payload["truncatedAlerts"] = 3
    parsed = parse_alertmanager(payload)
    assert parsed.truncated_alerts == 3 and "3 alert(s)" in parsed.warnings[0]


# --- Grafana -----------------------------------------------------------------------------


def test_grafana_sample_reads_links_and_values():
    parsed = parse_grafana(load("grafana_firing.json"))
    assert parsed.kind == "grafana" and not parsed.errors
    (alert,) = parsed.alerts
    assert alert.fingerprint == "8d6f1e2b9a0c4d11"
    assert alert.starts_at == datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    assert alert.dashboard_url == "https://grafana.example.org/d/llm-quality?orgId=1"
    assert alert.panel_url.endswith("viewPanel=4")
    assert alert.silence_url.startswith("https://grafana.example.org/alerting/silence/")
    assert alert.runbook_url == "https://runbooks.example.org/prompts/faq-answer"
    assert "value=0.74" in alert.value_text
    assert [what for what, _ in alert.links] == ["Alert source", "Runbook", "Dashboard", "Panel"]


def test_grafana_resolved_sample():
    (alert,) = parse_grafana(load("grafana_resolved.json")).alerts
    assert alert.status == "resolved" and alert.ends_at == datetime(2026, 11, 24, 9, 5, tzinfo=UTC)


def test_detect_kind_and_dispatch():
    assert detect_kind(load("grafana_firing.json")) == "grafana"
    assert detect_kind(load("alertmanager_firing.json")) == "alertmanager"
    assert parse_payload("auto", load("grafana_firing.json")).kind == "grafana"
    with pytest.raises(PayloadError, match="unknown payload kind"):
        parse_payload("pagerduty", {})


def test_wrong_sender_is_named_in_the_error():
    with pytest.raises(PayloadError, match="looks like a Grafana payload"):
        parse_alertmanager(load("grafana_firing.json"))
    with pytest.raises(PayloadError, match="looks like an Alertmanager payload"):
        parse_grafana(load("alertmanager_firing.json"))


@pytest.mark.parametrize(
    "payload, message",
    [
        ([], "must be a JSON object, not array"),
        ("text", "must be a JSON object, not string"),
        ({"version": "4"}, 'no "alerts" list'),
        ({"alerts": {"a": 1}}, '"alerts" must be a list, not object'),
        ({"alerts": [], "groupKey": 5}, '"groupKey" must be a string'),
        ({"alerts": [], "groupKey": "x" * 9000}, '"groupKey" is too long'),
        ({"alerts": [], "version": "3"}, "unsupported alertmanager webhook version"),
    ],
)
def test_unusable_payloads_raise_one_error(payload, message):
    with pytest.raises(PayloadError, match=message.replace("(", r"\(")) as info:
        parse_alertmanager(payload)
    assert "\n" not in str(info.value)


def test_legacy_grafana_payload_is_explained():
    legacy = {"title": "[Alerting] x", "ruleId": 1, "ruleName": "x", "state": "alerting", "evalMatches": []}
    with pytest.raises(PayloadError, match="legacy Grafana"):
        parse_grafana(legacy)


# --- malformed alerts ----------------------------------------------------------------------


def test_malformed_sample_gives_one_error_per_bad_alert():
    parsed = parse_alertmanager(load("alertmanager_malformed.json"))
    errors = {e.index: str(e) for e in parsed.errors}
    assert errors[0] == "alerts[0]: missing labels"
    assert errors[1] == "alerts[1] (WeirdStatus): unknown status 'pending' (firing or resolved)"
    assert errors[2] == "alerts[2] (NumericSeverity): label 'severity' must be a string, not number"
    assert errors[3] == "alerts[3] (BadTime): startsAt is not a time: 'yesterday'"
    assert errors[5] == "alerts[5]: must be an object, not string"
    # NoPrompt parses (it is refused later, when it would declare) and AnswerTooLong is fine
    # apart from a link that is not http(s), which is dropped with a warning.
    assert [a.index for a in parsed.alerts] == [4, 6]
    good = parsed.alerts[1]
    assert good.generator_url == "" and good.warnings == ("generatorURL dropped: not an http(s) link",)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"status": None}, "missing status"),
        ({"status": 3}, "status must be a string, not number"),
        ({"labels": []}, "labels must be an object, not array"),
        ({"annotations": "x"}, "annotations must be an object, not string"),
        ({"annotations": {"summary": None}}, "annotation 'summary' must be a string, not null"),
        ({"startsAt": 1700000000}, "startsAt must be a string time, not number"),
        ({"endsAt": "2026-13-40T00:00:00Z"}, "endsAt is not a time"),
        ({"fingerprint": ["x"]}, "fingerprint must be a string, not array"),
        ({"fingerprint": "f" * 300}, "fingerprint is too long"),
        ({"generatorURL": {"u": 1}}, "generatorURL must be a string, not object"),
        ({"labels": {"prompt_id": "p" * 5000}}, "label 'prompt_id' is too long"),
        ({"labels": {f"l{i}": "v" for i in range(300)}}, "too many labels"),
        ({"labels": {}, "fingerprint": ""}, "nothing identifies this alert"),
    ],
)
def test_each_wrong_type_is_a_clear_alert_error(fields, message):
    parsed = parse_alertmanager(one_alert(**fields))
    assert parsed.alerts == [] and len(parsed.errors) == 1
    assert message in parsed.errors[0].message


def test_huge_text_is_truncated_not_refused():
    parsed = parse_alertmanager(one_alert(annotations={"summary": "S" * 10_000, "description": "D" * 50_000}))
    (alert,) = parsed.alerts
    description = alert.annotations["description"]
    assert len(description) <= MAX_ANNOTATION and description.startswith("D" * 1000)
    assert description.endswith(f"… [truncated {(50_000 - description.index('…')) / 1024:.1f} KiB]")
    assert len(alert.summary) == MAX_TITLE


def test_escape_sequences_are_stripped():
    parsed = parse_alertmanager(
        one_alert(labels={"alertname": "A\x1b[31m", "prompt_id": "p\x1b]0;pwned\x07"},
                  annotations={"summary": "bad\x1b[2J news\r\nline two"})
    )
    (alert,) = parsed.alerts
    assert alert.labels == {"alertname": "A", "prompt_id": "p"}
    assert alert.summary == "bad news line two"


def test_missing_fingerprint_is_derived_from_the_labels():
    a = parse_alertmanager(one_alert(fingerprint=None, labels={"b": "2", "a": "1"})).alerts[0]
    b = parse_alertmanager(one_alert(fingerprint=None, labels={"a": "1", "b": "2"})).alerts[0]
    c = parse_alertmanager(one_alert(fingerprint=None, labels={"a": "1", "b": "3"})).alerts[0]
    assert a.fingerprint_derived and a.fingerprint == b.fingerprint != c.fingerprint
    assert a.fingerprint == labels_fingerprint({"a": "1", "b": "2"}) and len(a.fingerprint) == 16


def test_too_many_alerts_are_refused_past_the_limit():
    payload = {"alerts": [{"status": "firing", "labels": {"a": str(i)}} for i in range(MAX_ALERTS + 5)]}
    parsed = parse_alertmanager(payload)
    assert len(parsed.alerts) == MAX_ALERTS
    assert len(parsed.errors) == 1 and "more than 1000 alerts" in str(parsed.errors[0])


def test_parse_time_forms():
    assert parse_time("2026-11-25T12:50:00Z", "t") == datetime(2026, 11, 25, 12, 50, tzinfo=UTC)
    assert parse_time("2026-11-25T12:50:00", "t").tzinfo is UTC
    assert parse_time("0001-01-01T00:00:00Z", "t") is None
    assert parse_time("", "t") is None and parse_time(None, "t") is None
    with pytest.raises(ValueError, match="t is not a time"):
        parse_time("soon", "t")


# --- mapping -------------------------------------------------------------------------------


def test_declare_params_from_the_sample():
    first, second = parse_alertmanager(load("alertmanager_firing.json")).alerts
    params = declare_params(first, AlertMapping(), NOW)
    assert params.title == "Refund hallucination rate > 2%"
    assert (params.prompt_id, params.version, params.severity) == ("support-summary", 7, "P1")
    assert params.detected_by == "alert"
    assert params.started_at == datetime(2026, 11, 25, 13, 50, 0, 123456, tzinfo=NOW.tzinfo)  # in NOW's zone
    assert declare_params(second, AlertMapping(), NOW).version == 7  # "v7"
    assert declare_params(second, AlertMapping(), NOW).severity == "P2"


@pytest.mark.parametrize(
    "value, expected",
    [("critical", "P1"), ("CRITICAL", "P1"), ("warning", "P2"), ("info", "P3"), ("", "P3"), ("p2", "P2")],
)
def test_severity_mapping(value, expected):
    assert severity_for({"severity": value}, AlertMapping()) == expected


def test_custom_mapping_labels():
    mapping = AlertMapping(prompt_label="llm_prompt", version_label="rev", severity_label="level",
                           severity_map={"page": "P1"}, default_severity="P2")
    alert = parse_alertmanager(one_alert(labels={"llm_prompt": "faq", "rev": "3", "level": "page"})).alerts[0]
    params = declare_params(alert, mapping, NOW)
    assert (params.prompt_id, params.version, params.severity) == ("faq", 3, "P1")
    assert severity_for({"level": "meh"}, mapping) == "P2"


def test_an_alert_without_a_usable_prompt_maps_to_unassigned_and_an_odd_version_is_tolerated():
    for labels, why in (
        ({"alertname": "A", "prompt_version": "7"}, "no 'prompt_id' label"),
        ({"alertname": "A", "prompt_id": "  "}, "no 'prompt_id' label"),
        ({"alertname": "A", "prompt_id": "p" * 300}, "label 'prompt_id' is too long for a prompt id"),
        ({"alertname": "A", "prompt_id": UNASSIGNED}, f"label 'prompt_id' says {UNASSIGNED}"),
    ):
        params = declare_params(parse_alertmanager(one_alert(labels=labels)).alerts[0], AlertMapping(), NOW)
        assert (params.prompt_id, params.version) == (UNASSIGNED, None)
        assert params.unassigned.startswith(f"{why}: prompt unassigned; set it during triage")
        assert params.title == "A"
    odd = parse_alertmanager(one_alert(labels={"prompt_id": "p", "prompt_version": "2026-11-01"})).alerts[0]
    params = declare_params(odd, AlertMapping(), NOW)
    assert params.version is None and "not a version number" in params.warnings[0]


def test_future_start_is_clamped_to_now():
    alert = parse_alertmanager(one_alert(startsAt="2030-01-01T00:00:00Z")).alerts[0]
    assert declare_params(alert, AlertMapping(), NOW).started_at == NOW


def test_keys_are_scoped_by_sender_and_prompt():
    alert = parse_alertmanager(one_alert()).alerts[0]
    assert fingerprint_key(alert) == "alertmanager:fp:f1"
    assert group_key_for(alert, "p") == "alertmanager:group:p:g"
    assert group_key_for(alert, "") == ""


# --- config ----------------------------------------------------------------------------------


def test_alerts_config_section(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[alerts]\nprompt_label = "llm_prompt"\n[alerts.severity_map]\nPage = "p1"\n')
    config = load_config(path, explicit=True)
    assert config.alerts.prompt_label == "llm_prompt" and config.alerts.severity_map == {"page": "P1"}
    assert config.alerts.version_label == "prompt_version"


@pytest.mark.parametrize(
    "text, key",
    [
        ('[alerts]\ndefault_severity = "P9"\n', "alerts.default_severity"),
        ('[alerts]\nprompt_label = 3\n', "alerts.prompt_label"),
        ('[alerts.severity_map]\ncritical = "urgent"\n', "alerts.severity_map.critical"),
        ('[alerts]\nlabel = "x"\n', "alerts.label"),
    ],
)
def test_bad_alerts_config_is_one_line_with_file_line_key(tmp_path, text, key):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, explicit=True)
    message = str(info.value)
    assert str(path) in message and f"key '{key}'" in message and "line " in message and "\n" not in message


# --- never raise ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
alert_like = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["firing", "resolved", "FIRING", "pending", ""]) | json_values,
        "labels": st.dictionaries(st.sampled_from(["alertname", "prompt_id", "severity", "x"]),
                                  st.text(max_size=20) | json_values, max_size=4) | json_values,
        "annotations": st.dictionaries(st.sampled_from(["summary", "runbook_url"]), st.text(max_size=20)) | json_values,
        "startsAt": st.sampled_from(["2026-11-25T12:00:00Z", "0001-01-01T00:00:00Z", "nope"]) | json_values,
        "fingerprint": st.text(max_size=20) | json_values,
        "generatorURL": st.sampled_from(["http://x/y", "ftp://x", ""]) | json_values,
    },
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from(["4", "1"]) | json_values,
        "groupKey": st.text(max_size=20) | json_values,
        "alerts": st.lists(alert_like | json_values, max_size=5) | json_values,
        "orgId": st.integers(),
    },
) | json_values


@settings(max_examples=300, deadline=None)
@given(payloads, st.sampled_from(["alertmanager", "grafana", "auto"]))
def test_parsers_never_raise_anything_but_payload_error(payload, kind):
    try:
        parsed = parse_payload(kind, payload)
    except PayloadError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for alert in parsed.alerts:
        assert alert.status in ("firing", "resolved") and alert.fingerprint
        params = declare_params(alert, AlertMapping(), NOW)  # never refuses: an alert is never dropped
        assert params.prompt_id and (params.prompt_id != UNASSIGNED or params.unassigned)
    for error in parsed.errors:
        assert str(error).startswith(("alerts[", "payload"))
