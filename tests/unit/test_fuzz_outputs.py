"""Fuzz: hostile Alertmanager payloads → ingest → every CLI printer and every export format.

Labels and annotations carry Rich markup, terminal escapes (OSC 0 title, OSC 52 clipboard),
C1 controls, bidi overrides, line separators, huge strings, lone surrogates and undecodable
bytes (as surrogateescape leaves them). Whatever arrives, no command crashes, JSON stays JSON,
and no output holds a raw control character (newline and tab aside) or bidi control.
"""

from __future__ import annotations

import json
import tempfile
import unicodedata
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from incident_tui.cli import main
from incident_tui.domain.export import FORMATS
from incident_tui.domain.text import BIDI_CONTROLS

NASTY = [
    "[/]", "[bold]", "[bold red]x[/]", "[link=https://evil.example]y[/link]", "[@click=app.quit]z[/]",
    "\x1b[2J", "\x1b[31m", "\x1b]0;PWNED\x07", "\x1b]52;c;cm0gLXJmIH4=\x07", "\x1bP+q\x1b\\", "\x1b", "\x07",
    "\x9b31m", "\x85", "\x00", "\r", "\r\n", "\x7f", "\u202e", "\u202d", "\u2066", "\u2069", "\u200f", "\u061c",
    "\u2028", "\u2029", "\ufeff", "\udcff", "\ud800", "[Ack](https://evil.example/phish)", "![x](https://e.x/p.png)",
    "<!channel>", "<@U123|boss>", "{noformat}", "[t|https://evil.example]", "|", "*", "_", "#", "- ", "1. ",
]

undecodable = st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape"))
piece = st.one_of(st.sampled_from(NASTY), st.text(max_size=8), undecodable)
hostile = st.lists(piece, max_size=6).map("".join)
huge = st.sampled_from(NASTY).map(lambda s: (s + "y") * 20_000)  # over every field's cap


@st.composite
def payloads(draw):
    # Mostly accepted (so the printers have something to print), sometimes refused (so the
    # refusal messages are checked too).
    def rarely(strategy, usual):
        return draw(strategy) if draw(st.integers(0, 9)) == 0 else draw(usual)

    alerts = []
    for _ in range(draw(st.integers(1, 3))):
        labels = {"alertname": "A" + draw(hostile), "prompt_id": "p" + draw(hostile),
                  "severity": draw(st.sampled_from(["critical", "warning", "P1", ""]) | hostile),
                  "x" + draw(hostile): rarely(huge, hostile)}
        annotations = {"summary": draw(hostile | huge), "description": draw(hostile | huge),
                       "a" + draw(hostile): draw(hostile)}
        status = rarely(hostile, st.sampled_from(["firing", "firing", "firing", "resolved"]))
        alert = {"status": status, "labels": labels, "annotations": annotations,
                 "startsAt": "2026-11-25T13:00:00Z", "fingerprint": draw(hostile)}
        if draw(st.booleans()):
            alert["generatorURL"] = draw(st.sampled_from(["https://grafana.example/x", ""]) | hostile)
        alerts.append(alert)
    return {"version": "4", "status": "firing", "receiver": draw(hostile), "groupKey": draw(hostile),
            "commonLabels": {"alertname": draw(hostile)}, "alerts": alerts}


def raw_controls(text: str) -> list[str]:
    return [
        ch for ch in text
        if (unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t") or ch in BIDI_CONTROLS or ch in "\u2028\u2029"
    ]


def check(result, what: str, *, codes=(0,)) -> None:
    assert result.exit_code in codes, f"{what}: {result.exit_code} {result.stderr!r} {result.exception!r}"
    assert "unexpected" not in result.stderr, f"{what}: {result.stderr}"
    assert raw_controls(result.stdout) == [], f"{what}: raw control on stdout"
    assert raw_controls(result.stderr) == [], f"{what}: raw control on stderr"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(payloads())
def test_hostile_alerts_reach_no_output_raw(payload):
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "incidents.json")

        def run(*args, **kwargs):
            return runner.invoke(main, ["--db", db, *args], **kwargs)

        # json.dumps writes lone surrogates as \udcxx escapes: the payload arrives as sent.
        ingested = run("ingest", "alertmanager", input=json.dumps(payload))
        check(ingested, "ingest", codes=(0, 1))
        ids = [line for line in ingested.stdout.splitlines() if line.startswith("INC-")]
        listed = run("list", "--all")
        check(listed, "list")
        as_json = run("list", "--all", "--json")
        check(as_json, "list --json")
        assert {i["id"] for i in json.loads(as_json.stdout)} == set(ids)
        event(f"incidents: {len(set(ids))}")
        for incident_id in sorted(set(ids)):
            for args in (["show", incident_id], ["timeline", incident_id]):
                check(run(*args), " ".join(args))
                result = run(*args, "--json")
                check(result, " ".join(args) + " --json")
                json.loads(result.stdout)
            for fmt in FORMATS:
                check(run("export", incident_id, "--format", fmt), f"export {fmt}")
