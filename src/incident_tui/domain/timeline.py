"""The timeline's automatic lines, in the postmortem template's words.

Every function returns the text only; the service stamps it with a time, a kind and an author.
"""

from __future__ import annotations

from .models import DetectionMethod, Incident, Stage, TriageCategory


def _v(version: int | None) -> str:
    return f"v{version}" if version is not None else "unknown version"


def detection(incident: Incident) -> str:
    how = {
        DetectionMethod.ALERT: "alert fired",
        DetectionMethod.USER_REPORT: "user report",
        DetectionMethod.DOWNSTREAM: "downstream system flagged failures",
        DetectionMethod.MANUAL: "manual discovery",
    }[incident.detected_by]
    return (
        f"Detection: {how}: \"{incident.title}\". Incident declared ({incident.severity.value}, "
        f"{incident.prompt_id} {_v(incident.prompt_version)})"
    )


def impact_start() -> str:
    return "Impact start"


def stage_change(old: Stage, new: Stage) -> str:
    return f"Stage {old.value} → {new.value}"


def triage_complete(category: TriageCategory, hypothesis: str) -> str:
    text = f"Triage complete ({category.label}). Root cause hypothesis: {hypothesis.strip() or 'none given'}"
    return text


def contain_override(reason: str, who: str) -> str:
    return f"Contain-first overridden by {who or 'commander'}: {reason.strip()}"


def kill_switch(prompt_id: str, from_version: int | None, fallback: int | None) -> str:
    if fallback is None:
        return f"Kill switch executed. {prompt_id} {_v(from_version)} disabled"
    return f"Kill switch executed. Traffic routed to {prompt_id} {_v(fallback)} (from {_v(from_version)})"


def rollback(prompt_id: str, from_version: int | None, to_version: int) -> str:
    return f"Rollback executed. Traffic routed to {prompt_id} {_v(to_version)} (from {_v(from_version)})"


def containment_failed(action: str, detail: str) -> str:
    return f"{action} NOT executed: {detail}. Incident is not contained"


def no_hook(action: str) -> str:
    return f"No {action} hook configured: decision recorded, nothing external ran"


def hook_result(name: str, ok: bool, exit_code: int | None, seconds: float, tail: str) -> str:
    status = "ok" if ok else "failed"
    code = "timed out" if exit_code is None else f"exit {exit_code}"
    line = f"Hook {status} ({seconds:.1f} s): {name} {code}"
    tail = tail.strip()
    return f"{line} — {tail}" if tail else line


def impact_resolved() -> str:
    return "User impact resolved"


def root_cause_confirmed(cause: str) -> str:
    return f"Root cause confirmed: {cause.strip()}"


def remediation_staging(prompt_id: str, version: int | None) -> str:
    return f"Remediation deployed to staging ({prompt_id} {_v(version)})"


def remediation_promoted(prompt_id: str, version: int | None) -> str:
    return f"Remediation validated and promoted to production ({prompt_id} {_v(version)})"


def left_uncontained(why: str) -> str:
    return f"Moved on with the prompt not contained: {why}"


def incident_closed() -> str:
    return "Incident closed"


def edited(field: str, old: str, new: str) -> str:
    return f"{field} changed: {old or '—'} → {new or '—'}"


def sample_added(note: str) -> str:
    return f"Failure sample added{': ' + note.strip() if note.strip() else ''}"


def samples_imported(count: int, good: bool, source: str) -> str:
    kind = "good (baseline) samples" if good else "failure samples"
    return f"Imported {count} {kind} from {source}"


def change_suspected(change_id: str, kind: str, summary: str) -> str:
    return f"Change linked as suspect: {change_id} ({kind}) {summary}"


def remediation_validated(prompt_id: str, version: int, count: int, rate: str) -> str:
    return f"Remediation validated on {count} failure samples: {rate} pass ({prompt_id} v{version})"


def validation_failed(prompt_id: str, version: int, detail: str) -> str:
    return f"Validation of {prompt_id} v{version} on the failure samples failed: {detail}"
