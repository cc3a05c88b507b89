"""What a containment action will do and what it did, and what the rollback picker offers.

Their own module: the frozen dataclasses cost a command that never contains (`note`, `list`)
a millisecond or so to build at import, so services.incidents loads them when containment
is planned. services.incidents still offers them by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from incident_tui.domain.models import ContainmentAction

if TYPE_CHECKING:
    from incident_tui.domain.containment import RollbackCandidate
    from incident_tui.services.hooks import HookResult


@dataclass(frozen=True)
class RollbackOptions:
    """What the rollback picker offers: the live version and the candidates, default first."""

    prompt_id: str
    live: int | None
    candidates: list[RollbackCandidate]
    has_history: bool  # the production label has moved at least once: "never deployed" means something


@dataclass(frozen=True)
class ContainmentPlan:
    """What a containment action will do, for the confirmation dialog."""

    incident_id: str
    action: ContainmentAction
    prompt_id: str
    from_version: int | None
    to_version: int | None
    hook: list[str]
    change_summary: str  # e.g. "+12 −3 lines", or "" when the texts are unknown

    @property
    def description(self) -> str:
        from incident_tui.services.hooks import hook_name  # the hook runner loads when containment is planned

        hook = f" and run {hook_name(self.hook)}" if self.hook else " (no hook configured: nothing external runs)"
        fv = f"v{self.from_version}" if self.from_version is not None else "(live version unknown)"
        if self.action is ContainmentAction.ROLLBACK:
            # The arrow and the change size read the same way: from what is live to the target.
            size = f" ({self.change_summary})" if self.change_summary else ""
            return f"Route {self.prompt_id} {fv} → v{self.to_version}{size}{hook}"
        to = f", traffic to v{self.to_version}" if self.to_version is not None else ""
        return f"Kill switch: disable {self.prompt_id} {fv}{to}{hook}"


@dataclass(frozen=True)
class ContainmentResult:
    plan: ContainmentPlan
    contained: bool
    hook: HookResult | None
    message: str
