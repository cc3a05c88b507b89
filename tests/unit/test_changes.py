"""What changed before impact: ranking (domain), recording and label moves (service), the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from incident_tui.domain.changes import Change, ChangeKind, parse_window, rank_suspects

T0 = datetime(2026, 11, 25, 14, 0, tzinfo=timezone.utc)  # impact start


def change(id: str, minutes_before: float, prompt: str | None = "support", kind=ChangeKind.DEPLOY) -> Change:
    return Change(kind, f"change {id}", T0 - timedelta(minutes=minutes_before), prompt, id=id)


def test_suspects_are_before_impact_closest_first_and_later_changes_are_apart():
    changes = [
        change("far", 600), change("near", 20), change("global", 90, prompt=None),
        change("other-prompt", 10, prompt="faq"), change("after", -15), change("ancient", 60 * 80),
        change("way-after", -60 * 24),
    ]
    got = rank_suspects(changes, prompt_id="support", impact_start=T0, until=T0 + timedelta(hours=2))
    assert [s.change.id for s in got] == ["near", "global", "far", "after"]
    assert [s.before_impact for s in got] == [True, True, True, False]
    assert got[0].minutes_before_impact == 20 and got[-1].minutes_before_impact == -15
    wide = rank_suspects(changes, prompt_id="support", impact_start=T0, until=T0 + timedelta(days=2),
                         window=timedelta(days=4))
    assert [s.change.id for s in wide] == ["near", "global", "far", "ancient", "after", "way-after"]


def test_a_change_at_the_very_minute_of_impact_is_a_suspect():
    (s,) = rank_suspects([change("same", 0)], prompt_id="support", impact_start=T0, until=T0)
    assert s.before_impact and s.to_json()["minutes_before_impact"] == 0


@pytest.mark.parametrize("text,hours", [("72h", 72), ("3d", 72), ("90m", 1.5), (" 1H ", 1)])
def test_windows(text, hours):
    assert parse_window(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "h", "-3h", "0h", "3w", "3.5h"])
def test_bad_windows(text):
    with pytest.raises(ValueError, match="not a window"):
        parse_window(text)


def test_cli_records_ranks_and_links_changes_with_prompt_label_moves(run, tmp_path):
    for v in (1, 2):
        f = tmp_path / f"v{v}.txt"
        f.write_text(f"You are a support assistant, version {v}.\n")
        assert run("prompts", "add", "support", str(f)).exit_code == 0
    assert run("prompts", "label", "support", "1", "production").exit_code == 0
    assert run("prompts", "label", "support", "2", "production", "--why", "shorter replies").exit_code == 0
    model = run("change", "add", "--kind", "model", "--summary", "gpt-5 → gpt-5.1", "--at", "-3h").output.strip()
    deploy = run("change", "add", "--kind", "deploy", "--summary", "bot 2.4.1", "--prompt", "support",
                 "--at", "-30m", "--link", "https://ci.example/88").output.strip()
    run("change", "add", "--kind", "data", "--summary", "faq reindex", "--prompt", "faq", "--at", "-10m")
    assert model.startswith("CHG-") and deploy.startswith("CHG-") and model != deploy
    incident = run("declare", "--title", "replies rude", "--prompt", "support", "--severity", "P2",
                   "--detected-by", "user-report", "--started-at", "-20m").output.strip()
    later = run("change", "add", "--kind", "config", "--summary", "temperature 0.9", "--prompt", "support")
    assert later.exit_code == 0

    data = json.loads(run("changes", incident, "--json").output)
    ids = [d["id"] for d in data]
    assert ids[0] == deploy and model in ids
    assert all({"id", "at", "kind", "summary", "prompt_id", "before_impact", "minutes_before_impact"} <= set(d)
               for d in data)
    assert not any(d["summary"] == "faq reindex" for d in data)
    # The label moves ran just now, after impact start: listed apart, in time order, never causes.
    after = [d for d in data if not d["before_impact"]]
    assert [d["kind"] for d in after] == ["prompt", "prompt", "config"]
    assert after[1]["to_version"] == 2 and after[1]["from_version"] == 1 and "shorter replies" in after[1]["summary"]
    assert all(d["minutes_before_impact"] < 0 for d in after) and data[-3:] == after

    text = run("changes", incident).output
    assert "after impact start (not causes):" in text and text.index("bot 2.4.1") < text.index("temperature 0.9")

    linked = run("change", "link", incident, deploy.lower())
    assert linked.exit_code == 0
    assert f"Change linked as suspect: {deploy} (deploy) bot 2.4.1" in run("timeline", incident).output
    missing = run("change", "link", incident, "CHG-999")
    assert missing.exit_code == 1 and "no change 'CHG-999'" in missing.stderr


@pytest.mark.parametrize("args,message", [
    (["--kind", "deploy", "--summary", "  "], "say what changed"),
    (["--kind", "deploy", "--summary", "x", "--link", "javascript:alert(1)"], "http(s) URL"),
    (["--kind", "deploy", "--summary", "x", "--at", "+2h"], ""),
])
def test_cli_refuses_bad_changes(run, args, message):
    result = run("change", "add", *args)
    assert result.exit_code != 0
    assert message in result.stderr


def test_a_production_label_move_before_impact_is_a_prompt_suspect(db, clock, tmp_path):
    from incident_tui.services.changes import ChangeService
    from incident_tui.services.incidents import IncidentService

    service = IncidentService(db, clock=clock)
    for v in (1, 2):
        service.prompts.add("support", f"You are a support assistant, version {v}.\n")
    service.prompts.move_label("support", "production", 1, "ana", "launch")
    clock.advance(minutes=60)
    service.prompts.move_label("support", "production", 2, "bo", "shorter replies")
    clock.advance(minutes=45)
    incident = service.declare(title="rude", prompt_id="support", severity="P2", detected_by="alert",
                               started_at=clock() - timedelta(minutes=15))
    (first, second) = ChangeService(service).suspects(incident.id)
    assert first.change.kind is ChangeKind.PROMPT and (first.change.from_version, first.change.to_version) == (1, 2)
    assert first.before_impact and first.minutes_before_impact == 30 and first.change.author == "bo"
    assert second.change.to_version == 1 and second.minutes_before_impact == 90
