"""Validate a fix on the failures: run the `[hooks] validate` command on a candidate prompt version
and the incident's failing samples, stamp its pass rate, and say when promotion deserves a second look.

The hook gets files, not a shell: PROMPT_FILE (the candidate's text), SAMPLES_FILE (the failing
samples as JSONL: input, output, note), PROMPT_ID, CANDIDATE_VERSION, INCIDENT_ID. It prints its
pass rate as its last line (``pass=0.93``, ``93/100`` or ``93%``). Same rules as the containment
hooks: no shell, a timeout, the whole process group killed on timeout.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from incident_tui.domain import timeline as words
from incident_tui.domain.models import EventKind
from incident_tui.domain.prompts import PromptError
from incident_tui.domain.validation import PassRate, parse_pass_rate, promotion_warning
from incident_tui.services.hooks import HookResult, run_hook
from incident_tui.services.incidents import IncidentService, ServiceError
from incident_tui.store.storage import transaction

MANUAL = "validation is manual: no [hooks] validate command is configured"


@dataclass(frozen=True)
class Validation:
    version: int
    samples: int
    rate: PassRate | None  # None when the hook failed or printed no pass rate
    hook: HookResult
    message: str


class ValidationService:
    def __init__(self, incidents: IncidentService) -> None:
        self.incidents = incidents

    @property
    def configured(self) -> bool:
        return bool(self.incidents.config.hooks.validate)

    def prepare(self, incident_id: str, version: int) -> tuple[str, str, int, list[dict[str, str]]]:
        """What the hook needs (prompt id, candidate text, version, failing samples), read under the lock."""
        if not self.configured:
            raise ServiceError(MANUAL)
        incident = self.incidents.get(incident_id)
        try:
            text = self.incidents.prompts.get(incident.prompt_id, version).text
        except PromptError as exc:
            raise ServiceError(str(exc)) from None
        failing = [s for s in self.incidents.samples(incident.id) if not s.good]
        if not failing:
            raise ServiceError(f"{incident.id} has no failure samples to validate on (samples import, or s)")
        rows = [{"input": s.input, "output": s.output, "note": s.note} for s in failing]
        return incident.prompt_id, text, version, rows

    def run(self, incident_id: str, prompt_id: str, text: str, version: int, rows: list[dict[str, str]]) -> HookResult:
        """Run the hook on temporary files (touches no data: call it without holding the DB lock)."""
        with tempfile.TemporaryDirectory(prefix="incident-tui-validate-") as tmp:
            prompt_file = Path(tmp) / f"{version}.prompt.txt"
            samples_file = Path(tmp) / "failing-samples.jsonl"
            for path, body in ((prompt_file, text),
                               (samples_file, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(body)
            env = {"PROMPT_FILE": str(prompt_file), "SAMPLES_FILE": str(samples_file), "PROMPT_ID": prompt_id,
                   "CANDIDATE_VERSION": str(version), "INCIDENT_ID": incident_id}
            return run_hook(self.incidents.config.hooks.validate, env, self.incidents.config.hooks.timeout)

    def record(self, incident_id: str, prompt_id: str, version: int, samples: int, hook: HookResult) -> Validation:
        """Stamp the outcome on the timeline: the pass rate, or why there is none."""
        rate = parse_pass_rate(hook.last_line) if hook.ok else None
        if rate is not None:
            text = words.remediation_validated(prompt_id, version, samples, rate.percent)
        elif not hook.ok:
            what = f"exit {hook.exit_code}" if hook.exit_code is not None else hook.tail[:120]
            text = words.validation_failed(prompt_id, version, f"{hook.name} {what}")
        else:
            text = words.validation_failed(prompt_id, version,
                                           f"{hook.name} printed no pass rate as its last line (pass=0.93 or 93/100)")
        with transaction(self.incidents.db):
            incident = self.incidents.get(incident_id)
            self.incidents.stamp(
                incident, EventKind.MILESTONE, text,
                meta={"milestone": "validated", "version": version, "samples": samples,
                      "rate": None if rate is None else rate.rate, "ok": hook.ok, "exit_code": hook.exit_code},
            )
        return Validation(version, samples, rate, hook, text)

    def validate(self, incident_id: str, version: int) -> Validation:
        """prepare → run → record, for the CLI (the dashboard runs the hook outside its DB lock)."""
        prompt_id, text, version, rows = self.prepare(incident_id, version)
        hook = self.run(incident_id.strip().upper(), prompt_id, text, version, rows)
        return self.record(incident_id, prompt_id, version, len(rows), hook)

    def last(self, incident_id: str) -> tuple[PassRate | None, int | None]:
        """The newest validation on the timeline: its rate (None if it gave none) and version."""
        for event in reversed(self.incidents.timeline(incident_id)):
            if event.kind is EventKind.MILESTONE and event.meta.get("milestone") == "validated":
                rate = event.meta.get("rate")
                return (PassRate(rate) if isinstance(rate, (int, float)) else None), event.meta.get("version")
        return None, None

    def promotion_warning(self, incident_id: str, version: int | None) -> str:
        """'' when promoting ``version`` needs no second look; with no hook, that validation is manual."""
        if not self.configured:
            return ""
        rate, validated = self.last(incident_id)
        return promotion_warning(rate, validated, version, self.incidents.config.hooks.validate_min_pass)
