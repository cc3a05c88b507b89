"""The validate hook for real: a script gets the candidate and the failing samples, its pass rate is
stamped, promotion asks first when validation is missing, stale or low; a hang is killed."""

from __future__ import annotations

import json
import stat
import sys

import pytest

RECORDING_HOOK = """
import json, os, sys
samples = [json.loads(line) for line in open(os.environ["SAMPLES_FILE"])]
prompt = open(os.environ["PROMPT_FILE"]).read()
json.dump({"prompt": prompt, "samples": samples, "id": os.environ["PROMPT_ID"],
           "version": os.environ["CANDIDATE_VERSION"], "incident": os.environ["INCIDENT_ID"]},
          open(sys.argv[1], "w"))
passed = len(samples) if "Never promise" in prompt else 1
print("checked", len(samples), "samples")
print(f"{passed}/{len(samples)}")
"""


@pytest.fixture
def setup(run, tmp_path, monkeypatch):
    def make(hook_body: str, *, timeout: float = 30):
        hook = tmp_path / "validate_hook.py"
        hook.write_text(f"#!{sys.executable}\n" + hook_body)
        hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
        config = tmp_path / "config.toml"
        config.write_text(
            f'[hooks]\nvalidate = [{json.dumps(str(hook))}, {json.dumps(str(tmp_path / "seen.json"))}]\n'
            f"timeout = {timeout}\nvalidate_min_pass = 0.9\n"
        )
        monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(config))
        for v, text in ((1, "Never promise refunds."), (2, "Be generous."), (3, "Never promise refunds. Be kind.")):
            f = tmp_path / f"v{v}.txt"
            f.write_text(text + "\n")
            assert run("prompts", "add", "support", str(f)).exit_code == 0
        incident_id = run("declare", "--title", "refunds", "--prompt", "support", "--version", "2",
                          "--severity", "P1", "--detected-by", "alert").output.strip()
        samples = tmp_path / "failing.jsonl"
        samples.write_text("".join(json.dumps({"input": f"q{i}", "output": f"Full refund {i}!"}) + "\n"
                                   for i in range(4)))
        assert run("samples", "import", incident_id, str(samples)).exit_code == 0
        return incident_id

    return make


def test_validation_passes_files_stamps_the_rate_and_gates_promotion(run, setup, tmp_path):
    incident = setup(RECORDING_HOOK)
    # Not validated yet: promotion asks (refuses without --yes), naming what to do.
    refused = run("milestone", incident, "promoted", "--version", "3")
    assert refused.exit_code == 1 and "never validated" in refused.stderr and "--yes" in refused.stderr

    low = run("validate", incident, "--version", "2")
    assert low.exit_code == 0 and "Remediation validated on 4 failure samples: 25% pass (support v2)" in low.output
    good = run("validate", incident, "--version", "3")
    assert "Remediation validated on 4 failure samples: 100% pass (support v3)" in good.output
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["prompt"] == "Never promise refunds. Be kind.\n" and seen["version"] == "3"
    assert seen["id"] == "support" and seen["incident"] == incident
    assert [s["output"] for s in seen["samples"]] == [f"Full refund {i}!" for i in range(4)]

    stale = run("milestone", incident, "promoted", "--version", "1")
    assert stale.exit_code == 1 and "last validation was of v3, not v1" in stale.stderr
    assert run("milestone", incident, "promoted", "--version", "3").exit_code == 0
    timeline = run("timeline", incident).output
    assert "25% pass (support v2)" in timeline and "100% pass (support v3)" in timeline

    # Below the bar, promotion asks; --yes promotes anyway.
    run("validate", incident, "--version", "2")
    low_promote = run("milestone", incident, "promoted", "--version", "2")
    assert low_promote.exit_code == 1 and "passed 25%" in low_promote.stderr
    assert run("milestone", incident, "promoted", "--version", "2", "--yes").exit_code == 0


@pytest.mark.parametrize("body,message", [
    ("import sys\nprint('boom')\nsys.exit(3)\n", "failed: validate_hook.py exit 3"),
    ("print('all fine, trust me')\n", "printed no pass rate"),
])
def test_a_failing_or_silent_hook_records_no_rate(run, setup, body, message):
    incident = setup(body)
    result = run("validate", incident, "--version", "3")
    assert result.exit_code == 1 and message in result.output
    assert message in run("timeline", incident).output
    assert run("milestone", incident, "promoted", "--version", "3").exit_code == 1


def test_a_hanging_hook_is_killed_with_its_children(run, setup, tmp_path):
    pidfile = tmp_path / "child.pid"
    incident = setup(
        "import subprocess, time\n"
        f"child = subprocess.Popen(['sleep', '300'])\nopen({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(300)\n",
        timeout=1,
    )
    result = run("validate", incident, "--version", "3")
    assert result.exit_code == 1 and "timed out" in result.output
    import os

    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_without_a_hook_validation_is_manual(run, tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(tmp_path / "none.toml"))
    f = tmp_path / "v.txt"
    f.write_text("x\n")
    run("prompts", "add", "support", str(f))
    incident = run("declare", "--title", "t", "--prompt", "support", "--severity", "P3",
                   "--detected-by", "manual").output.strip()
    refused = run("validate", incident, "--version", "1")
    assert refused.exit_code == 1 and "validation is manual" in refused.stderr
    promoted = run("milestone", incident, "promoted", "--version", "1")
    assert promoted.exit_code == 0 and "validation is manual" in promoted.stderr
