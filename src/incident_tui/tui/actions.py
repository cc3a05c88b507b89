"""What the responder does from the keyboard: each action opens its dialog and calls the service.

A mixin of IncidentApp, which provides the data (``current``, ``incidents``, ``service``),
``read`` (a service call under the DB lock), ``write`` (a service call through the app's one
writer) and ``notify``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import ContentSwitcher, Input

from incident_tui.config import hook_program_problem
from incident_tui.domain.errors import IncidentTuiError
from incident_tui.domain.lifecycle import leaves_uncontained, next_stage
from incident_tui.domain.models import (
    ContainmentAction,
    DetectionMethod,
    Incident,
    Milestone,
    Severity,
    Stage,
    TriageCategory,
)
from incident_tui.domain.playbooks import playbook_for
from incident_tui.domain.text import clean
from incident_tui.domain.times import BackdateError, TimeParseError, parse_when
from incident_tui.tui.failures import EXPECTED, show_failure
from incident_tui.tui.widgets.incident_list import IncidentList
from incident_tui.tui.widgets.timeline import NoteInput, TimelinePane

if TYPE_CHECKING:  # imported where used: the first screen needs neither
    from incident_tui.domain.containment import RollbackCandidate
    from incident_tui.services.plans import ContainmentPlan



@dataclass
class ContainmentHookRan(Message):
    """A containment hook finished (or failed, or timed out): record what it did."""

    plan: ContainmentPlan
    hook: Any


@dataclass
class ValidationHookRan(Message):
    """The validation hook ran the fix over the failure samples: record the result."""

    validation: Any
    incident_id: str
    prompt_id: str
    version: int
    samples: int
    hook: Any


@dataclass
class HookRefused(Message):
    """A hook could not be prepared or started (unknown version, no samples, no program)."""

    error: Exception

class ResponderActions:
    def action_note(self) -> None:
        if self._need_incident() is None:
            return
        self.query_one(ContentSwitcher).current = "timeline"
        if self.screen.maximized is not None and self.screen.maximized is not self.query_one(TimelinePane):
            self.screen.minimize()
        self.query_one(NoteInput).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # A named handler, not @on: the decorator only registers on message-pump classes, not mixins.
        if event.input.id != "note":
            return
        event.stop()
        note_input = self.query_one(NoteInput)  # already empty: the next note may be typed at once
        incident = self._need_incident()
        if incident is None:
            note_input.give_back(event.value)
            return
        self._stamp_note(incident.id, event.value)

    def _stamp_note(self, incident_id: str, text: str, before_impact: bool = False) -> None:
        from incident_tui.tui.screens.form import ConfirmScreen

        note_input = self.query_one(NoteInput)

        def refused(exc: Exception) -> bool:
            if isinstance(exc, BackdateError) and exc.confirmable:
                asked = self.open_dialog(
                    ConfirmScreen("Before the incident began", Text(f"{exc}.\n\nStamp the note there anyway?"),
                                  yes="Stamp it there"),
                    lambda ok: self._stamp_note(incident_id, text, True) if ok else note_input.give_back(text),
                )
                if asked:
                    return True
            note_input.give_back(text)  # nothing typed is lost: the words wait in the note line
            return False

        self.write(self.service.note, incident_id, text.strip(), before_impact=before_impact, failed=refused)

    def action_star(self) -> None:
        event = self.query_one(TimelinePane).selected_event
        if event is None:
            self.notify("Select a timeline event first (2, then ↑ ↓).", severity="warning", markup=False)
            return
        self.write(self.service.toggle_star, event.doc_id,
                   done=lambda e: self.notify("Starred for the postmortem" if e.starred else "Unstarred", timeout=2, markup=False))

    def action_advance(self) -> None:
        from incident_tui.tui.screens.form import ConfirmScreen

        incident = self._need_incident()
        if incident is None:
            return
        target = next_stage(incident.stage)
        if target is None:
            self.notify(f"{incident.id} is closed.", severity="warning", markup=False)
            return

        def go(confirmed: bool = True) -> None:
            if confirmed:  # the header and the timeline show the new stage: no toast
                self.write(self.service.advance, incident.id, target)

        uncontained = leaves_uncontained(incident, target)
        if target is Stage.CLOSED:
            self.push_screen(ConfirmScreen("Close incident", f"Close {incident.id}? It leaves the active list.",
                                           yes="Close"), go)
        elif uncontained:  # never silent: the same one question as for a close
            self.push_screen(ConfirmScreen(
                f"Move {incident.id} to {target.value}", Text(f"{incident.id} is NOT contained: {uncontained}.\n\n"
                                                             f"Move it to {target.value} anyway? The timeline says why."),
                yes=f"Move to {target.value}"), go)
        else:
            go()

    def action_triage(self) -> None:
        from incident_tui.tui.screens.choice import ChoiceScreen

        incident = self._need_incident()
        if incident is None:
            return
        choices = []
        for category in TriageCategory:
            book = playbook_for(category, self.config.playbooks)
            label = Text()
            label.append(f"{category.label}", style="bold")
            label.append(f" — responds: {book.responders}\n", style="dim")
            label.append(f"  {book.actions[0]}", style="dim")
            choices.append((category.value, label))

        def chosen(value: str | None) -> None:
            if value is not None:
                self._triage_form(incident, TriageCategory(value), None)

        self.push_screen(ChoiceScreen(f"Triage {incident.id}: what kind of failure is it?", choices), chosen)

    def _triage_form(self, incident: Incident, category: TriageCategory, values: dict[str, str] | None) -> None:
        """The hypothesis; for an incident without a prompt (an unlabelled alert), the prompt first."""
        from incident_tui.domain.containment import is_unassigned
        from incident_tui.domain.prompts import parse_version
        from incident_tui.tui.screens.form import Field, FormScreen

        book = playbook_for(category, self.config.playbooks)
        intro = f"Responds: {book.responders}\n" + "\n".join(f" · {a}" for a in book.actions)
        values = values or {}
        fields = []
        ask_prompt = is_unassigned(incident.prompt_id)
        if ask_prompt:
            intro += "\n\nThe alert named no prompt: give it here (blank leaves it unassigned; containment needs it)."
            fields += [
                Field("prompt", "Prompt id", value=values.get("prompt", ""),
                      placeholder="tab completes a known prompt", suggestions=self._prompt_ids()),
                Field("version", "Version live now", value=values.get("version", ""),
                      placeholder="blank = the prompt's production version"),
            ]
        fields.append(Field("hypothesis", "Root cause hypothesis",
                            value=values.get("hypothesis", incident.hypothesis),
                            placeholder="e.g. v7 dropped the refund policy paragraph"))

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            prompt = values.get("prompt", "").strip()

            def go(prompt_id: str, new_prompt: bool) -> None:
                self.write(self.service.triage, incident.id, category, values["hypothesis"],
                           prompt_id=prompt_id or None, version=parse_version(values.get("version", "")),
                           new_prompt=new_prompt)

            if not prompt:
                go("", False)
                return
            self._confirm_prompt(prompt, parse_version(values.get("version", "")), "use",
                                 go=go, back=lambda fixed: self._triage_form(incident, category, {**values, **fixed}))

        self.push_screen(
            FormScreen(f"Triage {incident.id}: {category.label}", fields, submit="Triage complete",
                       intro=intro, validate=self._prompt_validator() if ask_prompt else None),
            submitted,
        )

    def _prompt_validator(self):
        """A form validator for a prompt field and its version: an unknown version of a known
        prompt is refused in the form; an unknown prompt is asked about after (_confirm_prompt)."""
        from incident_tui.domain.prompts import parse_version


        def validate(values: dict[str, str]) -> str | None:
            prompt = values.get("prompt", "").strip()
            raw = values.get("version", "").strip()
            if raw and parse_version(raw) is None:
                return "version: a number such as 7 (blank = the production version)"
            if raw and not prompt:
                return "a version needs its prompt id"
            if not prompt:
                return None
            from incident_tui.services.incidents import UnknownPromptError  # the store: not at start-up

            try:
                self.read(self.service.check_prompt, prompt, parse_version(raw))
            except UnknownPromptError:
                return None  # asked after the form: declare it as new, or pick a known one
            except IncidentTuiError as exc:
                return str(exc)
            return None

        return validate

    def _confirm_prompt(self, prompt_id: str, version: int | None, verb: str, *,
                        go: Callable[[str, bool], None], back: Callable[[dict[str, str]], None]) -> None:
        """Go on with a registered prompt at once; for an unregistered one, ask first.

        The choice opens on "back to the form", so a stray enter loses nothing and never
        registers a typo; the closest known ids and "yes, it is new" are the other choices.
        """
        from incident_tui.services.incidents import UnknownPromptError
        from incident_tui.tui.screens.choice import ChoiceScreen

        try:
            self.read(self.service.check_prompt, prompt_id, version)
        except UnknownPromptError as exc:
            choices: list[tuple[str, str]] = [("back", "No — back to the form to fix it")]
            shown = clean(prompt_id, multiline=False)
            choices += [(f"use:{s}", f"Use {s} (registered)") for s in exc.suggestions]
            choices.append(("new", f"Yes — {verb} {shown} as a new prompt"))
            if exc.registry_empty:
                intro = "No prompt is registered yet."
            elif exc.suggestions:
                intro = "Did you mean " + " or ".join(exc.suggestions) + "?"
            else:
                intro = "No registered prompt id is close to it."
            intro += " Rollback and the kill switch act only on registered versions: " \
                     "incident-tui prompts add|import-git|import-dir."

            def answered(choice: str | None) -> None:
                if choice == "new":
                    go(prompt_id, True)
                elif choice is not None and choice.startswith("use:"):
                    known = choice[4:]
                    self._confirm_prompt(known, version, verb, go=go,
                                         back=lambda fixed: back({"prompt": known, **fixed}))
                else:
                    back({})

            self.push_screen(ChoiceScreen(f"prompt {shown} is not registered — {verb} it as new?",
                                          choices, intro=intro), answered)
        except IncidentTuiError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=8)
            back({})
        else:
            go(prompt_id, False)

    def action_rollback(self) -> None:
        from incident_tui.tui.screens.choice import ChoiceScreen

        incident = self._need_incident()
        if incident is None:
            return
        try:
            options = self.read(self.service.rollback_options, incident.id)
        except IncidentTuiError as exc:
            # Nothing to route to (unassigned, unregistered, no other version): say so, run nothing.
            self.notify(str(exc), severity="error", markup=False, timeout=12)
            return
        if len(options.candidates) == 1:
            self._confirm_containment(incident, ContainmentAction.ROLLBACK, options.candidates[0].version)
            return
        now = self.clock()
        choices = [(str(c.version), _candidate_label(c, options.has_history, now)) for c in options.candidates]
        live = f"v{options.live}" if options.live is not None else "(live version unknown)"
        self.push_screen(
            ChoiceScreen(f"Roll {incident.prompt_id} {live} back to which version?", choices,
                         intro="earlier production versions first, newest first · "
                               "enter picks · esc cancels"),
            lambda value: value is not None and self._confirm_containment(
                incident, ContainmentAction.ROLLBACK, int(value)),
        )

    def action_kill_switch(self) -> None:
        incident = self._need_incident()
        if incident is not None:
            self._confirm_containment(incident, ContainmentAction.KILL_SWITCH, None)

    def _known_versions(self, prompt_id: str) -> list:
        return self.read(self.service.prompts.versions, prompt_id)  # [] when the registry lacks the prompt

    def _confirm_containment(self, incident: Incident, action: ContainmentAction, to_version: int | None) -> None:
        from incident_tui.tui.screens.form import ConfirmScreen

        try:
            plan = self.read(self.service.plan_containment, incident.id, action, to_version)
        except IncidentTuiError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=12)
            return
        title = "Roll back" if action is ContainmentAction.ROLLBACK else "Kill switch"
        body = Text(plan.description + "?", style="bold")
        body.append("\n\nA failing or hanging hook is shown and does not mark the incident contained.", style="dim")
        if plan.hook and (problem := hook_program_problem(plan.hook)):
            body.append(f"\n\nThe hook cannot start here: {problem}.", style="bold red")
        self.push_screen(ConfirmScreen(f"{title} · {incident.id}", body, yes=title),
                         lambda ok: ok and self._run_containment(plan))

    def _run_containment(self, plan: ContainmentPlan) -> None:
        name = plan.hook[0].rsplit("/", 1)[-1] if plan.hook else ""
        self._set_busy(f"running {name}…" if name else "recording")
        self._containment_worker(plan)

    # Hooks are the one thing not run by the app's writer: a hook runs for seconds (up to its
    # timeout) and the writer's queue must not wait for it, or notes typed meanwhile would. The
    # hook runs in its own worker, outside every lock; what it did is then recorded through the
    # writer like any other write. A hook worker that fails (a bug) is shown by the app's
    # Worker.StateChanged handler, which also clears the busy mark.
    @work(thread=True, group="hooks", exit_on_error=False)
    def _containment_worker(self, plan: ContainmentPlan) -> None:
        hook = self.service.run_containment_hook(plan)  # outside the lock: a slow hook blocks nobody
        self.post_message(ContainmentHookRan(plan, hook))

    def on_containment_hook_ran(self, message: ContainmentHookRan) -> None:
        # A named handler, not @on: the decorator only registers on message-pump classes, not mixins.
        self.write(self.service.record_containment, message.plan, message.hook, busy="recording",
                   done=self._containment_done)

    def _containment_done(self, result) -> None:
        self.notify(result.message, severity="information" if result.contained else "error",
                    timeout=3 if result.contained else 12, markup=False)

    def action_milestone(self) -> None:
        from incident_tui.tui.screens.choice import ChoiceScreen

        incident = self._need_incident()
        if incident is None:
            return
        choices = []
        for milestone in Milestone:
            if milestone is Milestone.PROMOTED:  # a fix is validated before it is promoted
                choices.append(("validate", "Validate a fix on the failure samples…"))
            asks = milestone in (Milestone.ROOT_CAUSE, Milestone.STAGING, Milestone.PROMOTED)  # a form follows
            choices.append((milestone.value, milestone.label + ("…" if asks else "")))
        self.push_screen(ChoiceScreen(f"Milestone · {incident.id}", choices), lambda w: w and self._milestone(incident, w))

    def _milestone(self, incident: Incident, which: str) -> None:
        from incident_tui.domain.prompts import parse_version
        from incident_tui.tui.screens.form import ConfirmScreen, Field, FormScreen

        done = lambda inc: self.notify(f"Stamped: {which.replace('-', ' ')}", timeout=3, markup=False)  # noqa: E731
        if which == Milestone.IMPACT_RESOLVED:
            self.write(self.service.milestone, incident.id, which, done=done)
        elif which == Milestone.CLOSED:
            self.push_screen(ConfirmScreen("Close incident", f"Close {incident.id}? It leaves the active list.",
                                           yes="Close"),
                             lambda ok: ok and self.write(self.service.milestone, incident.id, which, done=done))
        elif which == Milestone.ROOT_CAUSE:
            self.push_screen(
                FormScreen("Root cause confirmed",
                           [Field("text", "What specifically changed, and why it caused this failure",
                                  value=incident.root_cause or incident.hypothesis)],
                           validate=lambda v: None if v["text"].strip() else "say what the root cause is"),
                lambda v: v and self.write(self.service.milestone, incident.id, which, text=v["text"], done=done),
            )
        else:
            latest = self._known_versions(incident.prompt_id)
            default = str(latest[-1].version) if latest else ""
            title = "Validate which version" if which == "validate" else "Remediation version"
            self.push_screen(
                FormScreen(title,
                           [Field("version", "Prompt version of the fix", value=default, placeholder="e.g. 8")],
                           validate=lambda v: None if parse_version(v["version"]) is not None else "a version number"),
                lambda v: v and self._remediation_version(incident, which, parse_version(v["version"]), done),
            )

    def _remediation_version(self, incident: Incident, which: str, version: int, done) -> None:
        from incident_tui.services.validation import MANUAL, ValidationService
        from incident_tui.tui.screens.form import ConfirmScreen

        validation = ValidationService(self.service)
        if which == "validate":
            if not validation.configured:
                self.notify(f"{MANUAL}: note the result with n", severity="warning", timeout=8, markup=False)
                return
            self._set_busy("validating…")
            self._validation_worker(validation, incident.id, version)
            return
        if which == Milestone.PROMOTED:
            warning = self.read(validation.promotion_warning, incident.id, version)
            promote = lambda: self.write(self.service.milestone, incident.id, which, version=version,  # noqa: E731
                                         done=done if validation.configured
                                         else lambda inc: self.notify(f"Stamped: promoted ({MANUAL})", timeout=5, markup=False))
            if warning:
                body = Text(f"{warning}.", style="bold")
                body.append("\n\nm → Validate runs the fix on the failure samples first.", style="dim")
                self.push_screen(ConfirmScreen(f"Promote v{version} · {incident.id}", body,
                                               yes="Promote anyway"), lambda ok: ok and promote())
                return
            promote()
            return
        self.write(self.service.milestone, incident.id, which, version=version, done=done)

    @work(thread=True, group="hooks", exit_on_error=False)
    def _validation_worker(self, validation, incident_id: str, version: int) -> None:
        # A hook worker like _containment_worker (see there why it is not the writer): the samples
        # are read under the lock, the hook runs outside it, the result is recorded by the writer.
        try:
            with self.db_lock:
                prompt_id, text, version, rows = validation.prepare(incident_id, version)
            hook = validation.run(incident_id, prompt_id, text, version, rows)  # outside the lock
        except EXPECTED as exc:
            self.post_message(HookRefused(exc))
            return
        self.post_message(ValidationHookRan(validation, incident_id, prompt_id, version, len(rows), hook))

    def on_hook_refused(self, message: HookRefused) -> None:
        self._set_busy("")
        show_failure(self, message.error, timeout=8)

    def on_validation_hook_ran(self, message: ValidationHookRan) -> None:
        m = message
        self.write(m.validation.record, m.incident_id, m.prompt_id, m.version, m.samples, m.hook, busy="recording",
                   done=lambda r: self.notify(r.message, severity="information" if r.rate is not None else "error",
                                              timeout=8, markup=False))

    def action_declare(self) -> None:
        self._declare_form(None)

    def _declare_form(self, values: dict[str, str] | None) -> None:
        """The declare form, prefilled with ``values`` when it comes back from the prompt question."""
        from incident_tui.domain.prompts import parse_version
        from incident_tui.tui.screens.form import Field, FormScreen

        prompts = self._prompt_ids()
        values = values or {}
        check_prompt = self._prompt_validator()

        def validate(values: dict[str, str]) -> str | None:
            now = self.clock()
            started, bad_start = None, ""
            if values["started"].strip():
                try:
                    started = parse_when(values["started"], now)
                except TimeParseError as exc:
                    bad_start = str(exc)
            from incident_tui.services.incidents import check_declaration

            try:  # the service's own rules: sizes, a title, a prompt id, impact start not after now
                check_declaration(values["title"], values["prompt"], started_at=started, detected_at=now)
            except IncidentTuiError as exc:
                return str(exc)
            return check_prompt(values) or bad_start or None

        def declared(values: dict[str, str] | None) -> None:
            if values is None:
                return
            started = parse_when(values["started"], self.clock()) if values["started"].strip() else None
            version = parse_version(values["version"])

            def go(prompt_id: str, new_prompt: bool) -> None:
                self.write(
                    self.service.declare, title=values["title"], prompt_id=prompt_id, version=version,
                    severity=values["severity"], detected_by=values["detected"], started_at=started,
                    new_prompt=new_prompt, done=lambda incident: self._declared(incident, new_prompt),
                    busy="declaring",
                )

            self._confirm_prompt(values["prompt"].strip(), version, "declare", go=go,
                                 back=lambda fixed: self._declare_form({**values, **fixed}))

        self.push_screen(
            FormScreen(
                "Declare an incident",
                [
                    Field("title", "Title", value=values.get("title", ""),
                          placeholder="what users see going wrong"),
                    Field("prompt", "Prompt id", value=values.get("prompt", ""),
                          placeholder="tab completes a known prompt", suggestions=prompts),
                    Field("version", "Version live now", value=values.get("version", ""),
                          placeholder="blank = the prompt's production version"),
                    Field("severity", "Severity", kind="select", value=values.get("severity", "P2"),
                          options=[(f"{s.value} — {s.description}", s.value) for s in Severity]),
                    Field("detected", "Detected by", kind="select", value=values.get("detected", ""),
                          options=[(d.label, d.value) for d in DetectionMethod]),
                    Field("started", "Impact started (optional)", value=values.get("started", ""),
                          placeholder="-15m, 14:32 or ISO 8601"),
                ],
                submit="Declare",
                validate=validate,
            ),
            declared,
        )

    def _declared(self, incident: Incident, new_prompt: bool = False) -> None:
        self.query_one(IncidentList).select_id(incident.id)
        self.show_current()
        if new_prompt:
            self.notify(f"Declared {incident.id} for a new prompt, {incident.prompt_id}: register its versions "
                        "(incident-tui prompts add|import-git|import-dir) before a rollback.",
                        markup=False, timeout=8)
        else:
            self.notify(f"Declared {incident.id}. n writes a note, t triages.", markup=False, timeout=3)

    def _prompt_ids(self) -> list[str]:
        from incident_tui.domain.containment import is_unassigned

        ids = {p.prompt_id for p in self.read(self.service.prompts.list_prompts)}
        ids |= {i.prompt_id for i in self.incidents if not is_unassigned(i.prompt_id)}
        return sorted(ids)

    def action_people(self) -> None:
        from incident_tui.tui.screens.form import Field, FormScreen

        incident = self._need_incident()
        if incident is None:
            return
        self.push_screen(
            FormScreen(f"People · {incident.id}", [
                Field("commander", "Commander", value=incident.commander),
                Field("scribe", "Scribe", value=incident.scribe),
                Field("responders", "Responders (comma-separated)", value=", ".join(incident.responders)),
            ], submit="Save"),
            lambda v: v and self.write(
                self.service.set_people, incident.id, commander=v["commander"], scribe=v["scribe"],
                responders=[r.strip() for r in v["responders"].split(",") if r.strip()]),
        )

    def action_edit(self) -> None:
        from incident_tui.tui.screens.form import Field, FormScreen

        incident = self._need_incident()
        if incident is None:
            return
        self.push_screen(
            FormScreen(f"Edit · {incident.id}", [
                Field("title", "Title", value=incident.title),
                Field("severity", "Severity", kind="select", value=incident.severity.value,
                      options=[(s.value, s.value) for s in Severity]),
            ], submit="Save", validate=lambda v: None if v["title"].strip() else "a title cannot be empty"),
            lambda v: v and self.write(self.service.edit, incident.id, title=v["title"], severity=v["severity"]),
        )

    def action_sample(self) -> None:
        from incident_tui.tui.screens.form import Field, FormScreen

        incident = self._need_incident()
        if incident is None:
            return
        self.push_screen(
            FormScreen(f"Failure sample · {incident.id}", [
                Field("input", "Input (what the user asked)", kind="textarea"),
                Field("output", "Bad output", kind="textarea"),
                Field("note", "Why it is wrong", placeholder="e.g. invents a 90-day refund policy"),
            ], submit="Add sample", validate=lambda v: None if v["output"].strip() else "paste the bad output"),
            lambda v: v and self.write(self.service.add_sample, incident.id, input=v["input"], output=v["output"],
                                       note=v["note"], done=lambda s: self.notify("Sample added (S compares them)", markup=False)),
        )

    def action_samples(self) -> None:
        from incident_tui.domain.prompts import PromptError
        from incident_tui.tui.screens.samples import SamplesScreen

        incident = self._need_incident()
        if incident is None:
            return
        from incident_tui.services.samples import SampleService

        def analyse():  # thousands of samples take a moment: off the UI thread, like every read of size
            samples = self.service.samples(incident.id)
            prompt_text = ""
            if incident.prompt_version is not None:
                try:
                    prompt_text = self.service.prompts.get(incident.prompt_id, incident.prompt_version).text
                except PromptError:  # prompt text unknown: the phrases stand on their own
                    prompt_text = ""
            return samples, SampleService(self.service).common(incident.id), prompt_text

        self.write(analyse, busy="analysing samples",
                   done=lambda r: self.push_screen(SamplesScreen(incident.id, r[0], r[1], r[2])))



def _candidate_label(candidate: RollbackCandidate, has_history: bool, now: datetime) -> Text:
    """One line of the rollback picker: the version, why it is first, when it was last live."""
    label = Text(f"v{candidate.version}", style="bold")
    facts = []
    if candidate.default:
        facts.append("last known good (default)" if candidate.last_known_good else "previous good version (default)")
    elif candidate.last_known_good:
        facts.append("last known good")
    if candidate.live_until is not None:
        until = candidate.live_until.astimezone(now.tzinfo)
        facts.append(f"was live until {until:%Y-%m-%d %H:%M}")
    else:
        facts.append("never deployed" if has_history else "no deploy history")
    if candidate.note:
        facts.append(clean(candidate.note, multiline=False))
    label.append(" — " + " · ".join(facts), style="dim" if not candidate.default else "")
    return label
