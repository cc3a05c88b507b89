"""Samples from files (JSONL, chat JSONL, CSV): all or nothing, by line number; and the CLI around them."""

from __future__ import annotations

import json

import pytest

from incident_tui.domain.sample_files import Fields, SampleFileError, parse_samples


def test_jsonl_with_default_and_custom_fields():
    text = '{"input": "q1", "output": "a1", "note": "n1"}\n\n{"input": "q2", "output": "a2"}\n'
    assert [(r.input, r.output, r.note) for r in parse_samples(text, "x.jsonl")] == [("q1", "a1", "n1"), ("q2", "a2", "")]
    custom = '{"prompt": "q", "completion": {"text": "a"}, "why": "w"}\n'
    (r,) = parse_samples(custom, "x.jsonl", Fields("prompt", "completion", "why"))
    assert (r.input, r.output, r.note) == ("q", '{"text": "a"}', "w")


def test_chat_records_take_the_last_assistant_message_as_output():
    record = {"messages": [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": "refund?"},
        {"role": "assistant", "content": "checking"},
        {"role": "user", "content": [{"type": "text", "text": "well?"}]},
        {"role": "assistant", "content": "Refund issued."},
    ]}
    (r,) = parse_samples(json.dumps(record), "chat.jsonl")
    assert r.output == "Refund issued."
    assert r.input == "system: be kind\nuser: refund?\nassistant: checking\nuser: well?"


@pytest.mark.parametrize("text,message", [
    ('{"output": "ok"}\n{"output": "ok"\n', "line 2: not JSON"),
    ('{"output": "ok"}\n[1, 2]\n', "line 2: expected a JSON object"),
    ('{"output": "ok"}\n\n{"input": "q"}\n', "line 3: no 'output' field"),
    ('{"output": "  "}\n', "line 1: the output is empty"),
    ('{"messages": [{"role": "user", "content": "hi"}]}\n', "line 1: no assistant message"),
    ('\n\n', "no samples"),
])
def test_a_bad_jsonl_line_is_named(text, message):
    with pytest.raises(SampleFileError, match=message):
        parse_samples(text, "f.jsonl")


def test_csv_with_a_header_and_quoted_newlines():
    text = 'input,output,note\n"multi\nline",bad answer,n\nq2,"a, with comma",\n'
    got = parse_samples(text, "s.CSV")
    assert [(r.input, r.output, r.note) for r in got] == [("multi\nline", "bad answer", "n"), ("q2", "a, with comma", "")]


@pytest.mark.parametrize("text,message", [
    ("input,answer\nq,a\n", "line 1: no 'output' column"),
    ("input,output\nq,a\nq2,\n", "line 3: the output is empty"),
    ("input,output\nq,a,extra\n", "line 2: more cells"),
    ("", "no samples"),
])
def test_a_bad_csv_line_is_named(text, message):
    with pytest.raises(SampleFileError, match=message):
        parse_samples(text, "s.csv")


def test_cli_import_is_one_transaction_and_common_reports_both_sides(run, tmp_path):
    cli = run
    prompt = tmp_path / "p.txt"
    prompt.write_text("You are a support assistant.\n")
    assert cli("prompts", "add", "support", str(prompt)).exit_code == 0
    incident = cli("declare", "--title", "refunds", "--prompt", "support", "--severity", "P1",
                   "--detected-by", "alert").output.strip()
    failing = tmp_path / "failing.jsonl"
    failing.write_text("".join(
        json.dumps({"input": f"order {i} arrived late, I want my money back now",
                    "output": f"Sorry about order {i}. I have issued a full refund to your account."}) + "\n"
        for i in range(40)))
    good = tmp_path / "good.csv"
    good.write_text("input,output\n" + "".join(
        f"order {i} is late,Sorry about order {i}. A refund needs approval from billing.\n" for i in range(40)))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(failing.read_text() + "{oops\n")

    refused = cli("samples", "import", incident, str(bad))
    assert refused.exit_code == 1 and "line 41: not JSON" in refused.stderr and "nothing imported" in refused.stderr
    assert json.loads(cli("samples", "common", incident, "--json").output)["failing_n"] == 0

    assert "imported 40 failure samples" in cli("samples", "import", incident, str(failing)).output
    assert "imported 40 good samples" in cli("samples", "import", incident, str(good), "--good").output
    data = json.loads(cli("samples", "common", incident, "--json").output)
    assert (data["failing_n"], data["good_n"]) == (40, 40)
    top = data["outputs"][0]
    assert top["phrase"] == "issued a full refund to your account" and (top["failing"], top["good"]) == (40, 0)
    assert set(top) >= {"phrase", "failing", "good", "score"}
    assert data["inputs"][0]["phrase"].endswith("want my money back now")
    assert not any("approval" in p["phrase"] for p in data["outputs"])
    text = cli("samples", "common", incident).output
    assert "issued a full refund to your account  (40/40 failing, 0/40 good" in text
    timeline = cli("timeline", incident).output
    assert "Imported 40 failure samples from failing.jsonl" in timeline
    assert "Imported 40 good (baseline) samples from good.csv" in timeline
