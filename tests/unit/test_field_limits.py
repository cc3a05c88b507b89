"""Size limits per field: refused with the limit and the size when a person typed it, cut with a
visible marker when an alert sent it; nothing is written when a field is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_tui.config import Config
from incident_tui.domain.alerts import parse_payload
from incident_tui.domain.limits import (
    MAX_LINE_CHARS,
    MAX_TEXT_BYTES,
    FieldTooLarge,
    cap_chars,
    cap_text,
    check_line,
    check_text,
    format_size,
    text_bytes,
)
from incident_tui.domain.postmortem import ActionItem
from incident_tui.domain.text import clean
from incident_tui.services.alerts import AlertService
from incident_tui.services.incidents import IncidentService, ServiceError
from incident_tui.services.postmortem import PostmortemService

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
def svc(db, clock):
    return IncidentService(db, config=Config(user="ana"), clock=clock)


@pytest.fixture
def incident(svc):
    return svc.declare(new_prompt=True, title="Summaries invent refunds", prompt_id="support-summary", version=7, severity="P1",
                       detected_by="alert")


# --- domain ------------------------------------------------------------------------------


def test_a_text_at_the_limit_fits_and_one_byte_more_is_refused_with_both_sizes():
    check_text("the note", "a" * MAX_TEXT_BYTES)
    with pytest.raises(FieldTooLarge) as refused:
        check_text("the note", "a" * (MAX_TEXT_BYTES + 1))
    assert str(refused.value).startswith("the note is too long: 64.0 KiB (the limit is 64 KiB)")


def test_text_is_measured_in_utf8_bytes_not_characters():
    check_text("the note", "é" * (MAX_TEXT_BYTES // 2))
    with pytest.raises(FieldTooLarge, match="the limit is 64 KiB"):
        check_text("the note", "é" * (MAX_TEXT_BYTES // 2 + 1))
    with pytest.raises(FieldTooLarge, match=r"4\.8 MiB"):
        check_text("the note", "x" * 5_000_000)


def test_a_line_is_measured_in_characters():
    check_line("the title", "t" * MAX_LINE_CHARS)
    with pytest.raises(FieldTooLarge, match="the title is too long: 501 characters"):
        check_line("the title", "t" * (MAX_LINE_CHARS + 1))


def test_format_size():
    assert [format_size(n) for n in (812, 1024, 65536, 70_000, 5_000_000)] == [
        "812 bytes", "1 KiB", "64 KiB", "68.4 KiB", "4.8 MiB"]


@given(st.text(min_size=0, max_size=400), st.integers(min_value=40, max_value=300))
def test_capped_text_fits_and_keeps_its_head(text, limit):
    capped = cap_text(text, limit)
    assert text_bytes(capped) <= limit
    if text_bytes(text) <= limit:
        assert capped == text
    else:
        head = capped[: capped.rindex("… [truncated ")]
        assert text.startswith(head) and capped.endswith("]")


def test_capped_text_says_how_much_went():
    capped = cap_text("x" * 5_000_000)
    assert text_bytes(capped) <= MAX_TEXT_BYTES
    assert capped.endswith("… [truncated 4.7 MiB]")
    assert len(cap_chars("D" * 50_000, 8000)) <= 8000


def test_clean_turns_lone_surrogates_into_the_replacement_character():
    assert clean("a\ud800b\udcff") == "a\ufffdb\ufffd"
    assert clean("emoji 🔥 stays") == "emoji 🔥 stays"


# --- incident service: refused, nothing written ---------------------------------------------


def test_a_huge_note_is_refused_and_nothing_is_written(svc, incident):
    before = svc.timeline(incident.id)
    with pytest.raises(ServiceError, match=r"the note is too long: 4\.8 MiB \(the limit is 64 KiB\)"):
        svc.note(incident.id, "x" * 5_000_000)
    assert svc.timeline(incident.id) == before
    svc.note(incident.id, "y" * MAX_TEXT_BYTES)  # the limit itself is fine
    assert svc.timeline(incident.id)[-1].text == "y" * MAX_TEXT_BYTES


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, i, big, long: s.declare(new_prompt=True, title=long, prompt_id="p", severity="P1", detected_by="alert"),
         "the title is too long: 501 characters"),
        (lambda s, i, big, long: s.declare(new_prompt=True, title="t", prompt_id=long, severity="P1", detected_by="alert"),
         "the prompt id is too long"),
        (lambda s, i, big, long: s.edit(i, title=long), "the title is too long"),
        (lambda s, i, big, long: s.triage(i, "prompt-quality", big), "the hypothesis is too long"),
        (lambda s, i, big, long: s.milestone(i, "root-cause", text=big), "the root cause is too long"),
        (lambda s, i, big, long: s.set_people(i, commander=long), "the commander is too long"),
        (lambda s, i, big, long: s.set_people(i, responders=["bo", long]), "a responder is too long"),
        (lambda s, i, big, long: s.add_sample(i, input=big, output="bad"), "the sample input is too long"),
        (lambda s, i, big, long: s.add_sample(i, input="q", output=big), "the sample output is too long"),
        (lambda s, i, big, long: s.advance(i, "diagnose", reason=big), "the override reason is too long"),
    ],
)
def test_every_field_a_person_types_has_a_limit(svc, incident, call, message):
    before = (svc.get(incident.id), svc.timeline(incident.id), svc.list())
    with pytest.raises(ServiceError, match=message):
        call(svc, incident.id, "n" * (MAX_TEXT_BYTES + 1), "t" * (MAX_LINE_CHARS + 1))
    assert (svc.get(incident.id), svc.timeline(incident.id), svc.list()) == before


def test_postmortem_fields_have_limits_too(db, svc, incident):
    postmortems = PostmortemService(db, svc)
    big = "s" * (MAX_TEXT_BYTES + 1)
    for refused in (
        lambda: postmortems.save_field(incident.id, "summary", big),
        lambda: postmortems.save_field(incident.id, "review_date", "d" * (MAX_LINE_CHARS + 1)),
        lambda: postmortems.add_factor(incident.id, big),
        lambda: postmortems.set_waiver(incident.id, "prevents-recurrence", big),
        lambda: postmortems.add_action(incident.id, ActionItem(text=big)),
    ):
        with pytest.raises(ServiceError, match="too long"):
            refused()
    assert postmortems.load(incident.id).edited == set()
    postmortems.save_field(incident.id, "summary", "s" * 1000)
    assert postmortems.load(incident.id).get("summary") == "s" * 1000


# --- alerts: never refused for size, cut visibly ---------------------------------------------


def test_a_huge_alert_annotation_is_kept_cut_with_a_marker(db, clock):
    payload = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    payload["alerts"][0]["annotations"]["description"] = "D" * 300_000
    description = parse_payload("alertmanager", payload).alerts[0].annotations["description"]
    assert description.startswith("DDDD") and len(description) <= 8000
    assert description.endswith(" KiB]") and "… [truncated 285." in description
    report = AlertService(db, config=Config(user="ana"), clock=clock).ingest("alertmanager", payload)
    assert report.ok and report.incident_ids


def test_an_alert_with_lone_surrogates_is_stored_not_lost(db, clock):
    payload = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    payload["alerts"][0]["labels"]["prompt_id"] = "sum\ud800mary"
    payload["alerts"][0]["annotations"]["summary"] = "bad \udcff news"
    report = AlertService(db, config=Config(user="ana"), clock=clock).ingest("alertmanager", payload)
    assert report.ok
    incident = IncidentService(db).get(report.incident_ids[0])
    assert (incident.prompt_id, incident.title) == ("sum\ufffdmary", "bad \ufffd news")


# --- CLI: a clear line and a non-zero exit ----------------------------------------------------


def test_cli_refuses_a_huge_note_with_the_limit_and_the_size(run):
    run("declare", "--title", "t", "--prompt", "p", "--new-prompt", "--severity", "P2", "--detected-by", "manual")
    listing = json.loads(run("list", "--json").output)
    incident_id = listing[0]["id"]
    result = run("note", incident_id, "n" * 100_000)
    assert result.exit_code != 0
    assert "the note is too long: 97.7 KiB (the limit is 64 KiB)" in result.stderr
    result = run("declare", "--title", "t" * 600, "--prompt", "p", "--severity", "P2", "--detected-by", "manual")
    assert result.exit_code != 0 and "the title is too long: 600 characters (the limit is 500)" in result.stderr
