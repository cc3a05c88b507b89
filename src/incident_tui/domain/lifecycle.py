"""The lifecycle rules: which stage may follow which, and the contain-first guard."""

from __future__ import annotations

from incident_tui.domain.errors import IncidentTuiError
from .models import STAGE_ORDER, Incident, Stage, TriageCategory


class LifecycleError(IncidentTuiError, ValueError):
    """A move the rules refuse. ``needs_override`` marks the contain-first guard, which a reason lifts."""

    def __init__(self, message: str, *, needs_override: bool = False) -> None:
        super().__init__(message)
        self.needs_override = needs_override


def next_stage(stage: Stage) -> Stage | None:
    """The stage after ``stage``, or None once closed."""
    index = STAGE_ORDER.index(stage)
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) else None


def requires_contain_first(incident: Incident) -> bool:
    """A confirmed prompt-quality incident must be contained before it is diagnosed.

    An override given once (it is on the timeline) holds for the later stages too.
    """
    return (
        incident.category is TriageCategory.PROMPT_QUALITY
        and not incident.is_contained
        and not incident.contain_override
    )


def check_advance(incident: Incident, target: Stage, override_reason: str = "") -> bool:
    """Raise LifecycleError when ``incident`` may not move to ``target``.

    Moves go forward only (stages may be skipped, e.g. an API incident that needs no
    containment). Returns True when the move passes only because of ``override_reason``,
    so the caller stamps the override on the timeline.
    """
    current = incident.stage
    if current is Stage.CLOSED:
        raise LifecycleError(f"{incident.id} is closed; nothing follows closed")
    if target.index <= current.index:
        raise LifecycleError(
            f"{incident.id} is in {current.value}; stages only move forward (next: {STAGE_ORDER[current.index + 1].value})"
        )
    if target.index > Stage.TRIAGE.index and incident.category is None and target is not Stage.CLOSED:
        raise LifecycleError(
            f"triage {incident.id} first: choose a category (prompt quality, API, upstream data, model behaviour)"
        )
    if target.index > Stage.CONTAIN.index and target is not Stage.CLOSED and requires_contain_first(incident):
        if override_reason.strip():
            return True
        raise LifecycleError(
            f"contain first: {incident.id} is a confirmed prompt-quality incident and nothing is contained yet — "
            "roll back or use the kill switch, or override with a reason",
            needs_override=True,
        )
    return False


# Why leaving contain without a prompt rollback or kill switch is the expected path for the other
# categories: their containment happens outside this prompt (and outside this app).
_CONTAINED_ELSEWHERE = {
    TriageCategory.API: "an API incident is contained at the provider (fail over, retries, rate limits), "
                        "not by rolling back the prompt",
    TriageCategory.UPSTREAM_DATA: "an upstream-data incident is contained in the pipeline (pause the job, "
                                  "pin the last good snapshot), not by rolling back the prompt",
    TriageCategory.MODEL_BEHAVIOUR: "a model-behaviour incident is contained by pinning or rolling back the "
                                    "model, not the prompt",
}


def leaves_uncontained(incident: Incident, target: Stage) -> str | None:
    """The reason to state when ``incident`` moves past contain with nothing contained, else None.

    Prompt quality is not here: it needs containment or an override (``check_advance``). For the
    other categories the move is allowed, but never silent: the app asks before it (TUI) and the
    timeline says why the prompt was not contained.
    """
    if (
        target is Stage.CLOSED
        or target.index <= Stage.CONTAIN.index
        or incident.stage.index > Stage.CONTAIN.index
        or incident.is_contained
        or incident.category not in _CONTAINED_ELSEWHERE
    ):
        return None
    return _CONTAINED_ELSEWHERE[incident.category]
