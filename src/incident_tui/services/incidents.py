"""What a responder does to an incident. The CLI and the TUI both call this; neither holds rules.

Every method that changes an incident writes the incident and its timeline line(s) in one
store transaction, so a kill between the two cannot leave one without the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from incident_tui.domain.errors import IncidentTuiError
from incident_tui.config import Config
from incident_tui.domain import timeline as words
from incident_tui.domain.ids import next_incident_id
from incident_tui.domain.lifecycle import check_advance, leaves_uncontained, next_stage
from incident_tui.domain.limits import FieldTooLarge, cap_text, check_fields
from incident_tui.domain.models import (
    ContainmentAction,
    DetectionMethod,
    EventKind,
    FailureSample,
    Incident,
    Milestone,
    Severity,
    Stage,
    TimelineEvent,
    TriageCategory,
)
from incident_tui.domain.text import clean
from incident_tui.domain.times import BackdateError, check_backdate, local_now, split_time_prefix
from incident_tui.store.repository import NotFoundError
from incident_tui.store.stores import Database, Stores
from incident_tui.store.storage import transaction

if TYPE_CHECKING:
    from incident_tui.domain.containment import UnknownPromptId
    from incident_tui.services.hooks import HookResult
    from incident_tui.services.plans import ContainmentPlan, ContainmentResult, RollbackOptions
    from incident_tui.services.prompts import PromptService

_PLANS = ("ContainmentPlan", "ContainmentResult", "RollbackOptions")


def __getattr__(name: str) -> Any:
    """The containment plans live in services.plans, loaded when first asked for here."""
    if name in _PLANS:
        from incident_tui.services import plans

        return getattr(plans, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ServiceError(IncidentTuiError, ValueError):
    """A request the service refuses; the message is one line for the responder."""


class UnknownPromptError(ServiceError):
    """A prompt id the registry does not know. ``suggestions`` are the closest known ids;
    the caller may offer to declare it as new (``new_prompt=True``)."""

    def __init__(self, refused: UnknownPromptId) -> None:
        super().__init__(str(refused))
        self.prompt_id = refused.prompt_id
        self.suggestions = refused.suggestions
        self.registry_empty = refused.registry_empty


_E = TypeVar("_E", bound=Enum)


def enum_value(kind: type[_E], value: object, what: str, error: type[ServiceError] | None = None) -> _E:
    """``kind(value)``, or a one-line refusal that names the values it takes."""
    try:
        return kind(value)
    except ValueError:
        raise (error or ServiceError)(
            f"unknown {what} {value!r} (one of: {', '.join(str(k.value) for k in kind)})"
        ) from None


def fits(lines: dict[str, str | None] | None = None, texts: dict[str, str | None] | None = None) -> None:
    """Refuse a field over its size limit (domain.limits) before anything is written."""
    try:
        check_fields(lines, texts)
    except FieldTooLarge as exc:
        raise ServiceError(str(exc)) from None


def check_declaration(
    title: str,
    prompt_id: str,
    *,
    commander: str | None = None,
    started_at: datetime | None = None,
    detected_at: datetime | None = None,
) -> tuple[str, str]:
    """The rules of a declaration that need no data: sizes, a title, a prompt id, and an impact
    start no later than detection. Returns the cleaned title and prompt id; raises ServiceError
    with the line the responder sees (the declare form checks with this too)."""
    fits(lines={"the title": title, "the prompt id": prompt_id, "the commander": commander})
    title = clean(title, multiline=False)
    prompt_id = clean(prompt_id, multiline=False)
    if not title:
        raise ServiceError("a title is required")
    if not prompt_id:
        raise ServiceError("a prompt id is required")
    if started_at is not None and detected_at is not None and started_at > detected_at:
        raise ServiceError("impact start is after detection; give a time in the past")
    return title, prompt_id


class IncidentService:
    """Declare, note, advance, triage, contain, and the milestones of an incident."""

    def __init__(
        self,
        stores: Stores | Database,
        *,
        config: Config | None = None,
        clock: Callable[[], datetime] = local_now,
        prompts: PromptService | None = None,
    ) -> None:
        self.stores = Stores.of(stores)
        self.db = self.stores.db  # for transactions
        self.repo = self.stores.incidents
        self.config = config or Config()
        self.clock = clock
        self._prompts = prompts

    @property
    def prompts(self) -> PromptService:
        if self._prompts is None:
            from incident_tui.services.prompts import PromptService

            self._prompts = PromptService(self.stores, clock=self.clock)
        return self._prompts

    @property
    def author(self) -> str:
        return self.config.author

    # --- reading -------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        try:
            return self.repo.get_incident(incident_id.strip().upper())
        except NotFoundError as exc:
            raise ServiceError(str(exc)) from None

    def list(self, include_closed: bool = False) -> list[Incident]:
        """Open incidents (or all), worst first: severity, then oldest impact start."""
        loaded = self.repo.list_incidents() if include_closed else self.repo.list_open_incidents()
        incidents = [i for i in loaded if include_closed or i.is_open]
        incidents.sort(key=lambda i: (not i.is_open, i.severity.rank, i.started_at))
        return incidents

    def timeline(self, incident_id: str) -> list[TimelineEvent]:
        self.get(incident_id)
        return self.repo.timeline(incident_id.strip().upper())

    def timeline_of(self, incident: Incident) -> list[TimelineEvent]:
        """The timeline of an incident just read (from :meth:`list`): not looked up again by its id."""
        return self.repo.timeline(incident.id)

    def samples(self, incident_id: str) -> list[FailureSample]:
        return self.repo.samples_for(self.get(incident_id).id)

    # --- helpers -------------------------------------------------------------------

    def stamp(
        self,
        incident: Incident | str,
        kind: EventKind,
        text: str,
        *,
        at: datetime | None = None,
        backdated: bool = False,
        starred: bool = False,
        author: str | None = None,
        meta: dict[str, Any] | None = None,
        **fields,
    ) -> TimelineEvent:
        """Write one timeline line of ``incident`` (an Incident or its id): the one place events are written.

        ``at`` defaults to now, ``author`` to the configured user. The line's meta is ``meta`` as
        given plus the keyword ``fields`` that are not None. Callers hold the transaction that also
        writes what the line is about.
        """
        return self.repo.add_event(
            TimelineEvent(
                incident_id=incident if isinstance(incident, str) else incident.id,
                at=at or self.clock(),
                kind=kind,
                text=text,
                author=self.author if author is None else author,
                starred=starred,
                backdated=backdated,
                meta={**(meta or {}), **{k: v for k, v in fields.items() if v is not None}},
            )
        )

    def _move_stage(self, incident: Incident, target: Stage, at: datetime) -> None:
        old = incident.stage
        incident.stage = target
        self.stamp(incident, EventKind.STAGE, words.stage_change(old, target), at=at, old=old.value, new=target.value)

    # --- declare -------------------------------------------------------------------

    def declare(
        self,
        *,
        title: str,
        prompt_id: str,
        severity: Severity | str,
        detected_by: DetectionMethod | str,
        version: int | None = None,
        started_at: datetime | None = None,
        detected_at: datetime | None = None,
        commander: str | None = None,
        alert_key: str | None = None,
        extra_events: list[tuple[EventKind, str]] | None = None,
        new_prompt: bool = False,
    ) -> Incident:
        """Create an incident with its detection (and impact-start) lines; the id is allocated under the lock.

        The prompt must be registered (UnknownPromptError, with the closest ids, otherwise)
        unless ``new_prompt`` says it is one the registry does not know yet; a version must be
        registered for a registered prompt. Without a version, the production label's is taken.
        """
        now = detected_at or self.clock()
        title, prompt_id = check_declaration(title, prompt_id, commander=commander, started_at=started_at,
                                             detected_at=now)
        try:
            severity = Severity(severity)
            detected_by = DetectionMethod(detected_by)
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
        from incident_tui.domain.containment import is_unassigned  # the containment rules: not for a note

        with transaction(self.db):
            self.check_prompt(prompt_id, version, new_prompt=new_prompt)
            if version is None and not is_unassigned(prompt_id):
                version = self._production_version(prompt_id)
            day = now.date()
            # Only that day's ids can hold the highest number of the day (no parse of every id).
            incident_id = next_incident_id(day, self.repo.incident_ids(containing=f"{day:%Y%m%d}"))
            incident = Incident(
                id=incident_id,
                title=title,
                prompt_id=prompt_id,
                prompt_version=version,
                severity=severity,
                detected_by=detected_by,
                detected_at=now,
                impact_started_at=started_at,
                commander=clean(commander, multiline=False) if commander is not None else self.author,
                declared_by=self.author,
                alert_keys=[alert_key] if alert_key else [],
            )
            if started_at is not None:
                self.stamp(incident, EventKind.IMPACT_START, words.impact_start(), at=started_at, backdated=True)
            self.stamp(incident, EventKind.DETECTION, words.detection(incident), at=now)
            for kind, text in extra_events or ():
                self.stamp(incident, kind, cap_text(clean(text)), at=now)
            self.repo.insert_incident(incident)
        return incident

    def check_prompt(self, prompt_id: str, version: int | None = None, *, new_prompt: bool = False) -> None:
        """Refuse a prompt id / version an incident may not name (see domain.containment).

        Raises UnknownPromptError for an unregistered id (unless ``new_prompt``), ServiceError
        for an unregistered version of a registered prompt. Reads only.
        """
        from incident_tui.domain.containment import ContainmentError, UnknownPromptId, check_prompt_reference

        try:
            check_prompt_reference(prompt_id, version, self.prompts.registry(), new_prompt=new_prompt)
        except UnknownPromptId as exc:
            raise UnknownPromptError(exc) from None
        except ContainmentError as exc:
            raise ServiceError(str(exc)) from None

    def _production_version(self, prompt_id: str) -> int | None:
        return self.prompts.production_version(prompt_id)  # None for a prompt the registry lacks

    def _assign_prompt(
        self, incident: Incident, prompt_id: str, version: int | None, new_prompt: bool, at: datetime
    ) -> None:
        """Point the incident at a (checked) prompt and version, stamping the change."""
        prompt_id = clean(prompt_id, multiline=False)
        if not prompt_id:
            raise ServiceError("a prompt id is required")
        if prompt_id == incident.prompt_id and version in (None, incident.prompt_version):
            return  # unchanged: nothing to check (an edit of the title passes the prompt along)
        self.check_prompt(prompt_id, version, new_prompt=new_prompt)
        from incident_tui.domain.containment import is_unassigned

        if version is None and not is_unassigned(prompt_id):
            same = prompt_id == incident.prompt_id
            version = incident.prompt_version if same else self._production_version(prompt_id)
        old = (incident.prompt_id, incident.prompt_version)
        if old == (prompt_id, version):
            return
        incident.prompt_id, incident.prompt_version = prompt_id, version
        change = words.edited("Prompt", _prompt_text(*old), _prompt_text(prompt_id, version))
        self.stamp(incident, EventKind.EDIT, change, at=at, field="prompt", prompt_id=prompt_id, version=version)

    # --- notes ---------------------------------------------------------------------

    def note(
        self,
        incident_id: str,
        text: str,
        *,
        at: datetime | None = None,
        star: bool = False,
        author: str | None = None,
        before_impact: bool = False,
    ) -> TimelineEvent:
        """Stamp a note. Without ``at``, a leading time ("14:32 …", "-5m …") backdates it.

        A backdated time in the future is refused; one before the incident began (domain
        ``check_backdate``) is refused too unless ``before_impact`` says the user confirmed it.
        """
        fits(texts={"the note": text})
        incident = self.get(incident_id)
        text = clean(text).strip()
        now = self.clock()
        backdated = at is not None
        typed = ""
        if at is None:
            typed = text.partition(" ")[0]
            at, text = split_time_prefix(text, now)
            backdated = at is not None
        if not text:
            raise ServiceError("the note is empty")
        if backdated:
            try:
                check_backdate(at, now=now, impact_start=incident.impact_started_at,
                               detected_at=incident.detected_at, typed=typed)
            except BackdateError as exc:
                if not (exc.confirmable and before_impact):
                    raise
        with transaction(self.db):
            return self.stamp(
                incident, EventKind.NOTE, text, at=at, backdated=backdated, starred=star, author=author
            )

    def toggle_star(self, event_id: int) -> TimelineEvent:
        with transaction(self.db):
            try:
                event = self.repo.get_event(event_id)
            except NotFoundError as exc:
                raise ServiceError(str(exc)) from None
            event.starred = not event.starred
            self.repo.save_event(event)
        return event

    # --- lifecycle -----------------------------------------------------------------

    def advance(self, incident_id: str, stage: Stage | str | None = None, *, reason: str = "") -> Incident:
        """Move to ``stage`` (default: the next one) under the lifecycle rules."""
        fits(texts={"the override reason": reason})
        with transaction(self.db):
            incident = self.get(incident_id)
            if stage is None:
                target = next_stage(incident.stage)
                if target is None:
                    raise ServiceError(f"{incident.id} is closed; nothing follows closed")
            else:
                target = enum_value(Stage, stage, "stage")
            overridden = check_advance(incident, target, reason)  # LifecycleError reaches the caller
            uncontained = leaves_uncontained(incident, target)
            now = self.clock()
            if uncontained:
                self.stamp(incident, EventKind.STAGE, words.left_uncontained(uncontained), at=now)
            if overridden:
                incident.contain_override = clean(reason, multiline=False)
                self.stamp(
                    incident, EventKind.OVERRIDE, words.contain_override(incident.contain_override, self.author), at=now
                )
            self._move_stage(incident, target, now)
            if target is Stage.CLOSED:
                incident.closed_at = now
                self.stamp(incident, EventKind.MILESTONE, words.incident_closed(), at=now, milestone="closed")
            self.repo.save_incident(incident)
        return incident

    def triage(
        self,
        incident_id: str,
        category: TriageCategory | str,
        hypothesis: str,
        *,
        prompt_id: str | None = None,
        version: int | None = None,
        new_prompt: bool = False,
    ) -> Incident:
        """Record the category and hypothesis; moves a detect-stage incident into triage.

        ``prompt_id`` (and ``version``) name the incident's prompt on the way, checked as in
        ``declare``: how an incident an alert opened without a prompt label gets one.
        """
        fits(texts={"the hypothesis": hypothesis})
        category = enum_value(TriageCategory, category, "category")
        with transaction(self.db):
            incident = self.get(incident_id)
            if not incident.is_open:
                raise ServiceError(f"{incident.id} is closed")
            now = self.clock()
            if (prompt_id is not None and prompt_id.strip()) or version is not None:
                chosen = prompt_id if prompt_id is not None and prompt_id.strip() else incident.prompt_id
                self._assign_prompt(incident, chosen, version, new_prompt, now)
            if incident.stage is Stage.DETECT:
                self._move_stage(incident, Stage.TRIAGE, now)
            incident.category = category
            incident.hypothesis = clean(hypothesis).strip()
            incident.triaged_at = now
            self.stamp(
                incident, EventKind.TRIAGE, words.triage_complete(category, incident.hypothesis), at=now,
                category=category.value,
            )
            self.repo.save_incident(incident)
        return incident

    # --- containment -----------------------------------------------------------------

    def plan_containment(
        self, incident_id: str, action: ContainmentAction | str, to_version: int | None = None
    ) -> ContainmentPlan:
        """Work out both versions, the change size and the hook, without changing anything.

        Refuses (ServiceError) an unassigned incident, a prompt with no registered version, a
        target that is not a registered version, and a rollback with no target to take: see
        domain.containment.plan_routing. Nothing is guessed.
        """
        from incident_tui.domain.containment import ContainmentError, change_summary, plan_routing
        from incident_tui.services.plans import ContainmentPlan

        action = ContainmentAction(action)
        incident, prompt_id, versions, moves = self._registry_of(incident_id)
        try:
            routing = plan_routing(action, prompt_id, versions, moves, incident.prompt_version, to_version)
        except ContainmentError as exc:
            raise ServiceError(str(exc)) from None
        known = {v.version: v for v in versions}
        change = ""
        if action is ContainmentAction.ROLLBACK and routing.from_version in known and routing.to_version in known:
            change = change_summary(known[routing.from_version].text, known[routing.to_version].text)
        hook = self.config.hooks.rollback if action is ContainmentAction.ROLLBACK else self.config.hooks.kill_switch
        return ContainmentPlan(
            incident_id=incident.id,
            action=action,
            prompt_id=prompt_id,
            from_version=routing.from_version,
            to_version=routing.to_version,
            hook=list(hook),
            change_summary=change,
        )

    def _registry_of(self, incident_id: str) -> tuple[Incident, str, Any, Any]:
        """An open incident, its prompt id, and that prompt's registered versions and label moves."""
        from incident_tui.domain.containment import is_unassigned

        incident = self.get(incident_id)
        if not incident.is_open:
            raise ServiceError(f"{incident.id} is closed")
        prompt_id = incident.prompt_id
        versions = [] if is_unassigned(prompt_id) else self.prompts.versions(prompt_id)
        moves = self.prompts.label_history(prompt_id) if versions else []
        return incident, prompt_id, versions, moves

    def rollback_options(self, incident_id: str) -> RollbackOptions:
        """The versions a rollback of this incident may route to, in the picker's order
        (default first, then earlier production versions, then never-deployed ones)."""
        from incident_tui.domain.containment import ContainmentError, rollback_choices
        from incident_tui.services.plans import RollbackOptions

        incident, prompt_id, versions, moves = self._registry_of(incident_id)
        try:
            live, candidates = rollback_choices(prompt_id, versions, moves, incident.prompt_version)
        except ContainmentError as exc:
            raise ServiceError(str(exc)) from None
        has_history = any(m.label == "production" for m in moves)
        return RollbackOptions(prompt_id, live, candidates, has_history)

    def contain(self, plan: ContainmentPlan) -> ContainmentResult:
        """Carry out a plan: run the hook (blocking: call it from a worker), then record the outcome."""
        return self.record_containment(plan, self.run_containment_hook(plan))

    def run_containment_hook(self, plan: ContainmentPlan) -> HookResult | None:
        """Run the configured hook with the plan in its environment; None when no hook is configured.

        Touches no data, so a caller may run it without holding any lock.
        """
        if not plan.hook:
            return None
        env = {
            "INCIDENT_ID": plan.incident_id,
            "PROMPT_ID": plan.prompt_id,
            "FROM_VERSION": "" if plan.from_version is None else str(plan.from_version),
            "TO_VERSION": "" if plan.to_version is None else str(plan.to_version),
            "ACTION": plan.action.value,
        }
        from incident_tui.services.hooks import run_hook

        return run_hook(plan.hook, env, self.config.hooks.timeout)

    def record_containment(self, plan: ContainmentPlan, hook_result: HookResult | None) -> ContainmentResult:
        """Stamp the hook's result; only a success (or no hook) marks the incident contained."""
        from incident_tui.services.plans import ContainmentResult

        action_word = "Rollback" if plan.action is ContainmentAction.ROLLBACK else "Kill switch"
        with transaction(self.db):
            incident = self.get(plan.incident_id)
            now = self.clock()
            if hook_result is not None:
                self.stamp(
                    incident,
                    EventKind.HOOK,
                    words.hook_result(
                        hook_result.name, hook_result.ok, hook_result.exit_code, hook_result.seconds, hook_result.tail
                    ),
                    at=now,
                    ok=hook_result.ok,
                    exit_code=hook_result.exit_code,
                )
                if not hook_result.ok:
                    detail = "hook timed out" if hook_result.exit_code is None else f"hook exit {hook_result.exit_code}"
                    if hook_result.exit_code is None and hook_result.tail.startswith("could not start"):
                        detail = f"hook {hook_result.tail}"
                    self.stamp(incident, EventKind.CONTAINMENT, words.containment_failed(action_word, detail), at=now)
                    self.repo.save_incident(incident)
                    return ContainmentResult(plan, False, hook_result, f"{action_word} failed: {detail}")
            else:
                self.stamp(incident, EventKind.HOOK, words.no_hook(action_word.lower()), at=now)
            if plan.action is ContainmentAction.ROLLBACK:
                text = words.rollback(plan.prompt_id, plan.from_version, plan.to_version)
                self._move_production(plan.prompt_id, plan.to_version, f"rollback in {incident.id}", incident.id, now)
            else:
                text = words.kill_switch(plan.prompt_id, plan.from_version, plan.to_version)
            self.stamp(
                incident, EventKind.CONTAINMENT, text, at=now, action=plan.action.value,
                from_version=plan.from_version, to_version=plan.to_version,
            )
            incident.containment = plan.action
            incident.contained_at = incident.contained_at or now
            incident.routed_to_version = plan.to_version
            if incident.stage.index < Stage.CONTAIN.index:
                self._move_stage(incident, Stage.CONTAIN, now)
            self.repo.save_incident(incident)
        return ContainmentResult(plan, True, hook_result, text)

    def _version_exists(self, prompt_id: str, version: int) -> bool:
        return version in self.prompts.registry().get(prompt_id, set())

    def _move_production(self, prompt_id: str, version: int | None, why: str, incident_id: str, at: datetime) -> None:
        if version is None or not self._version_exists(prompt_id, version):
            return
        self.prompts.move_label(prompt_id, "production", version, self.author, why, incident_id=incident_id, at=at)

    def rollback(self, incident_id: str, to_version: int | None = None) -> ContainmentResult:
        return self.contain(self.plan_containment(incident_id, ContainmentAction.ROLLBACK, to_version))

    def kill_switch(self, incident_id: str) -> ContainmentResult:
        return self.contain(self.plan_containment(incident_id, ContainmentAction.KILL_SWITCH))

    # --- milestones ------------------------------------------------------------------

    def milestone(
        self, incident_id: str, which: Milestone | str, *, text: str = "", version: int | None = None
    ) -> Incident:
        """Stamp a Milestone, with the time the postmortem needs."""
        fits(texts={"the root cause": text})
        milestone = enum_value(Milestone, which, "milestone")
        which = milestone.value
        if milestone is Milestone.CLOSED:
            return self.advance(incident_id, Stage.CLOSED)
        with transaction(self.db):
            incident = self.get(incident_id)
            if not incident.is_open:
                raise ServiceError(f"{incident.id} is closed")
            now = self.clock()
            if milestone is Milestone.IMPACT_RESOLVED:
                incident.impact_resolved_at = now
                line = words.impact_resolved()
            elif milestone is Milestone.ROOT_CAUSE:
                cause = clean(text).strip()
                if not cause:
                    raise ServiceError("say what the root cause is")
                incident.root_cause = cause
                incident.root_cause_at = now
                line = words.root_cause_confirmed(cause)
            elif milestone is Milestone.STAGING:
                version = self._remediation_version(incident, version, "deployed to staging")
                incident.staging_at = now
                incident.staging_version = version
                line = words.remediation_staging(incident.prompt_id, version)
                self.prompts.move_label(
                    incident.prompt_id, "staging", version, self.author, f"remediation of {incident.id}",
                    incident_id=incident.id, at=now,
                )
            else:  # promoted
                version = version if version is not None else incident.staging_version
                version = self._remediation_version(incident, version, "promoted")
                incident.promoted_at = now
                incident.promoted_version = version
                line = words.remediation_promoted(incident.prompt_id, version)
                self._move_production(incident.prompt_id, version, f"remediation of {incident.id}", incident.id, now)
            self.stamp(incident, EventKind.MILESTONE, line, at=now, milestone=which, version=version)
            self.repo.save_incident(incident)
        return incident

    def _remediation_version(self, incident: Incident, version: int | None, what: str) -> int:
        from incident_tui.domain.containment import ContainmentError, check_remediation_version, is_unassigned

        numbers = set() if is_unassigned(incident.prompt_id) else self.prompts.registry().get(incident.prompt_id, set())
        try:
            return check_remediation_version(incident.prompt_id, version, numbers, what)
        except ContainmentError as exc:
            raise ServiceError(str(exc)) from None

    # --- people and edits ----------------------------------------------------------------

    def set_people(
        self,
        incident_id: str,
        *,
        commander: str | None = None,
        scribe: str | None = None,
        responders: list[str] | None = None,
    ) -> Incident:
        fits(lines={"the commander": commander, "the scribe": scribe, "a responder": max(responders or [""], key=len)})
        with transaction(self.db):
            incident = self.get(incident_id)
            now = self.clock()
            for name, value in (("commander", commander), ("scribe", scribe)):
                if value is None:
                    continue
                value = clean(value, multiline=False)
                old = getattr(incident, name)
                if value != old:
                    setattr(incident, name, value)
                    self.stamp(incident, EventKind.EDIT, words.edited(name.capitalize(), old, value), at=now)
            if responders is not None:
                new = [clean(r, multiline=False) for r in responders if clean(r, multiline=False)]
                if new != incident.responders:
                    old = ", ".join(incident.responders)
                    incident.responders = new
                    self.stamp(incident, EventKind.EDIT, words.edited("Responders", old, ", ".join(new)), at=now)
            self.repo.save_incident(incident)
        return incident

    def edit(
        self,
        incident_id: str,
        *,
        title: str | None = None,
        severity: Severity | str | None = None,
        prompt_id: str | None = None,
        version: int | None = None,
        new_prompt: bool = False,
    ) -> Incident:
        """Change the title, severity or prompt (checked as in ``declare``); each change is stamped."""
        fits(lines={"the title": title})
        with transaction(self.db):
            incident = self.get(incident_id)
            now = self.clock()
            if prompt_id is not None or version is not None:
                chosen = prompt_id if prompt_id is not None and prompt_id.strip() else incident.prompt_id
                self._assign_prompt(incident, chosen, version, new_prompt, now)
            if title is not None:
                title = clean(title, multiline=False)
                if not title:
                    raise ServiceError("a title cannot be empty")
                if title != incident.title:
                    self.stamp(incident, EventKind.EDIT, words.edited("Title", incident.title, title), at=now)
                    incident.title = title
            if severity is not None:
                try:
                    severity = Severity(severity)
                except ValueError:
                    raise ServiceError(f"unknown severity {severity!r} (P1, P2 or P3)") from None
                if severity is not incident.severity:
                    self.stamp(
                        incident, EventKind.EDIT, words.edited("Severity", incident.severity.value, severity.value), at=now
                    )
                    incident.severity = severity
            self.repo.save_incident(incident)
        return incident

    def add_sample(self, incident_id: str, *, input: str, output: str, note: str = "") -> FailureSample:
        fits(texts={"the sample input": input, "the sample output": output, "the sample note": note})
        if not output.strip():
            raise ServiceError("a failure sample needs the bad output")
        with transaction(self.db):
            incident = self.get(incident_id)
            now = self.clock()
            sample = self.repo.add_sample(
                FailureSample(incident.id, clean(input), clean(output), clean(note), at=now, author=self.author)
            )
            self.stamp(incident, EventKind.SAMPLE, words.sample_added(clean(note, multiline=False)), at=now)
        return sample


def _prompt_text(prompt_id: str, version: int | None) -> str:
    return f"{prompt_id} v{version}" if version is not None else prompt_id
