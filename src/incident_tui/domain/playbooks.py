"""Who responds and what to do first, per triage category. The config file can add entries."""

from __future__ import annotations

from dataclasses import dataclass

from .models import TriageCategory


@dataclass(frozen=True)
class Playbook:
    category: TriageCategory
    responders: str
    actions: tuple[str, ...]


BUILTIN: dict[TriageCategory, Playbook] = {
    TriageCategory.PROMPT_QUALITY: Playbook(
        TriageCategory.PROMPT_QUALITY,
        "prompt owner + on-call ML engineer",
        (
            "Contain now: roll back to the last good version (r) or use the kill switch (K)",
            "Diff the failing version against the last good one (3)",
            "Collect 3–5 failure samples and what they share",
            "Check the eval suite result of the failing version",
        ),
    ),
    TriageCategory.API: Playbook(
        TriageCategory.API,
        "platform on-call",
        (
            "Check the provider status page and error rates (429/5xx)",
            "Fail over to the secondary provider or region if configured",
            "Check timeouts and retries in the client",
        ),
    ),
    TriageCategory.UPSTREAM_DATA: Playbook(
        TriageCategory.UPSTREAM_DATA,
        "data pipeline owner",
        (
            "Compare recent inputs with a known-good day (schema, empty fields, encoding)",
            "Pause the upstream job or pin the last good snapshot",
            "Check retrieval / context assembly for missing or stale documents",
        ),
    ),
    TriageCategory.MODEL_BEHAVIOUR: Playbook(
        TriageCategory.MODEL_BEHAVIOUR,
        "ML engineer + model vendor contact",
        (
            "Check whether the provider changed the model version or defaults",
            "Pin the model version, or roll back to the previous one",
            "Re-run the eval suite against the current model",
        ),
    ),
}


def playbook_for(category: TriageCategory, extra: dict[TriageCategory, list[str]] | None = None) -> Playbook:
    """The built-in playbook for ``category`` with the config file's extra actions appended."""
    base = BUILTIN[category]
    more = tuple((extra or {}).get(category, ()))
    return Playbook(category, base.responders, base.actions + more)
