"""Containment rules: which version a rollback or a kill switch routes to, and which prompt
ids and versions an incident may name.

Pure: the registry's versions and label moves come in, a decision or a refusal comes out.
The trust rule behind every function here: containment acts only on what exists. A target
that is not a registered version is refused, never guessed (no "v999 → v998" for a prompt the
registry has never seen); an incident whose prompt is unassigned or unregistered is refused
with what to do next.

Words used below:
- *live*: the version serving production now: the production label if the registry has one,
  else the version the incident was declared with, if that version is registered.
- *previous* / *last known good*: the default rollback target (see ``default_target``).
- *earlier production versions*: versions the production label pointed at before, newest
  first, from the label's move history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from incident_tui.domain.errors import IncidentTuiError
from .models import ContainmentAction
from .prompts import (
    LAST_KNOWN_GOOD,
    PRODUCTION,
    UNASSIGNED,
    LabelMove,
    PromptVersion,
    labels_at,
    last_known_good,
    ordered,
)

REGISTER_HINT = "register versions with `incident-tui prompts add|import-git|import-dir`"
NOTHING_TO_ROLL_BACK = f"nothing to roll back to: {REGISTER_HINT}"


class ContainmentError(IncidentTuiError, ValueError):
    """A declaration or a containment the rules refuse; the message is one line for a person."""


class UnknownPromptId(ContainmentError):
    """A prompt id the registry does not know, with the closest known ids.

    ``registry_empty`` says no prompt is registered at all (a fresh install): then there is
    nothing to suggest and the caller says how to declare a new prompt.
    """

    def __init__(self, prompt_id: str, suggestions: list[str], registry_empty: bool) -> None:
        self.prompt_id = prompt_id
        self.suggestions = suggestions
        self.registry_empty = registry_empty
        if registry_empty:
            message = f"prompt {prompt_id!r} is not registered (no prompt is registered yet)"
        elif suggestions:
            message = f"prompt {prompt_id!r} is not registered; did you mean {_or_list(suggestions)}?"
        else:
            message = f"prompt {prompt_id!r} is not registered (no registered id is close to it)"
        super().__init__(message)


class UnknownVersionNumber(ContainmentError):
    """A version number the registry does not have for a known prompt."""


def _or_list(items: Sequence[str]) -> str:
    quoted = [repr(i) for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def is_unassigned(prompt_id: str) -> bool:
    """True for an incident that does not name a prompt yet."""
    return not prompt_id.strip() or prompt_id == UNASSIGNED


def version_range(numbers: Collection[int]) -> str:
    """"v1–v92", "v3", or "none" — how many versions a prompt has, for an error message."""
    if not numbers:
        return "none"
    low, high = min(numbers), max(numbers)
    return f"v{low}" if low == high else f"v{low}–v{high}"


def suggest_prompt_ids(prompt_id: str, known_ids: Iterable[str], limit: int = 3) -> list[str]:
    """The known ids closest to a mistyped one, closest first (difflib's ratio, case-insensitive).

    A known id equal but for case comes first; a known id containing the typed one (or the
    reverse, "summary" for "support-summary") counts as close too.
    """
    known = sorted(set(known_ids))
    folded = prompt_id.casefold().strip()
    if not folded:
        return []
    by_fold: dict[str, list[str]] = {}
    for k in known:
        by_fold.setdefault(k.casefold(), []).append(k)
    import difflib  # here: declaring a registered or a new prompt never needs it

    out: list[str] = list(by_fold.get(folded, []))
    for match in difflib.get_close_matches(folded, list(by_fold), n=limit + len(out), cutoff=0.6):
        out.extend(k for k in by_fold[match] if k not in out)
    if len(out) < limit and len(folded) >= 4:
        out.extend(k for k in known if k not in out and (folded in k.casefold() or k.casefold() in folded))
    return out[:limit]


def check_prompt_reference(
    prompt_id: str, version: int | None, registry: Mapping[str, Collection[int]], *, new_prompt: bool = False
) -> None:
    """May an incident name ``prompt_id`` (and ``version``)? Raises a ContainmentError if not.

    ``registry`` maps every registered prompt id to its version numbers. An unknown id is
    refused with the closest known ids (UnknownPromptId) unless ``new_prompt`` says the person
    means a prompt the registry does not know yet — on a fresh install, too: a typo there would
    otherwise go unnoticed until the first rollback. An unknown version of a known prompt is
    always refused (UnknownVersionNumber), with the range it has. The unassigned sentinel is
    accepted without a version.
    """
    if prompt_id == UNASSIGNED:
        if version is not None:
            raise ContainmentError("an unassigned incident has no prompt version: name the prompt too")
        return
    if version is not None and version < 1:
        raise UnknownVersionNumber(f"version {version} is not a version number (versions start at 1)")
    numbers = registry.get(prompt_id)
    if not numbers:
        if new_prompt:
            return
        raise UnknownPromptId(prompt_id, suggest_prompt_ids(prompt_id, registry), registry_empty=not registry)
    if version is not None and version not in numbers:
        raise UnknownVersionNumber(f"{prompt_id} has no version {version} (it has {version_range(numbers)})")


# --- which version is live, and where to route ----------------------------------------------


def _numbers(versions: Iterable[PromptVersion]) -> set[int]:
    return {v.version for v in versions}


def live_version(versions: Sequence[PromptVersion], moves: Iterable[LabelMove], declared: int | None) -> int | None:
    """The version serving production now: the production label, else the incident's declared
    version if it is registered, else None (unknown — never guessed)."""
    numbers = _numbers(versions)
    labelled = labels_at(moves).get(PRODUCTION)
    if labelled is not None and labelled in numbers:
        return labelled
    if declared is not None and declared in numbers:
        return declared
    return None


def default_target(versions: Sequence[PromptVersion], moves: Iterable[LabelMove], live: int | None) -> int | None:
    """Where a rollback goes when nobody names a version ("the previous good one").

    With the live version known: the last-known-good label if it points before it, else the
    production version the live one replaced, else the newest older version — skipping any
    whose text equals the live text (domain.prompts.last_known_good). With the live version
    unknown: only the last-known-good label, since "older than" means nothing. None when
    there is no candidate: the caller refuses rather than guessing.
    """
    moves = list(moves)
    if live is None:
        lkg = labels_at(moves).get(LAST_KNOWN_GOOD)
        return lkg if lkg is not None and lkg in _numbers(versions) else None
    return last_known_good(versions, moves, live)


@dataclass(frozen=True)
class RollbackCandidate:
    """One version a rollback may route to, with what the picker says about it."""

    version: int
    note: str | None
    live_until: datetime | None  # when it last stopped serving production; None if it never did
    default: bool = False
    last_known_good: bool = False

    @property
    def deployed(self) -> bool:
        return self.live_until is not None


def production_history(moves: Iterable[LabelMove]) -> dict[int, tuple[datetime, int]]:
    """For each version the production label left: when it last left it, and the position of
    that move in the history (moves stamped in the same instant keep their order)."""
    prod = [m for m in ordered(moves) if m.label == PRODUCTION]
    until: dict[int, tuple[datetime, int]] = {}
    for position, (move, after) in enumerate(zip(prod, prod[1:]), start=1):
        if after.version != move.version:
            until[move.version] = (after.at, position)
    return until


def rollback_candidates(
    versions: Sequence[PromptVersion], moves: Iterable[LabelMove], live: int | None
) -> list[RollbackCandidate]:
    """Every version a rollback may route to, in the order the picker lists them.

    The default target first; then the earlier production versions, the most recently live
    first; then versions that never served production, newest first. The live version is
    not a candidate.
    """
    moves = list(moves)
    by_number = {v.version: v for v in versions}
    default = default_target(versions, moves, live)
    until = production_history(moves)
    lkg = labels_at(moves).get(LAST_KNOWN_GOOD)

    def candidate(number: int) -> RollbackCandidate:
        return RollbackCandidate(
            version=number,
            note=by_number[number].note,
            live_until=until[number][0] if number in until else None,
            default=number == default,
            last_known_good=number == lkg,
        )

    order: list[int] = [default] if default is not None else []
    order += sorted((n for n in until if n in by_number), key=lambda n: until[n][1], reverse=True)
    order += sorted((n for n in by_number if n not in until), reverse=True)
    seen: set[int] = set()
    out = []
    for number in order:
        if number == live or number in seen:
            continue
        seen.add(number)
        out.append(candidate(number))
    return out


def _require_prompt(action: ContainmentAction, prompt_id: str, versions: Sequence[PromptVersion]) -> None:
    """Refuse an unassigned incident, and a prompt with no registered version."""
    if is_unassigned(prompt_id):
        raise ContainmentError(
            "this incident's prompt is unassigned: set it first "
            "(t to triage in the dashboard, or `incident-tui triage INC CATEGORY --prompt P`)"
        )
    if versions:
        return
    if action is ContainmentAction.ROLLBACK:
        raise ContainmentError(f"{NOTHING_TO_ROLL_BACK} ({prompt_id!r} has no registered version)")
    raise ContainmentError(
        f"the kill switch has nothing to act on: {prompt_id!r} has no registered version; {REGISTER_HINT}"
    )


def rollback_choices(
    prompt_id: str, versions: Sequence[PromptVersion], moves: Iterable[LabelMove], declared: int | None
) -> tuple[int | None, list[RollbackCandidate]]:
    """(live version, candidates in picker order) for a rollback, or a ContainmentError when
    there is nothing to choose from."""
    _require_prompt(ContainmentAction.ROLLBACK, prompt_id, versions)
    moves = list(moves)
    live = live_version(versions, moves, declared)
    candidates = rollback_candidates(versions, moves, live)
    if not candidates:
        raise ContainmentError(f"{NOTHING_TO_ROLL_BACK} ({prompt_id} has only v{live})")
    return live, candidates


class Routing(NamedTuple):
    """A containment's versions: from the live one (None: unknown) to the target (None: the
    kill switch only disables)."""

    from_version: int | None
    to_version: int | None


def plan_routing(
    action: ContainmentAction,
    prompt_id: str,
    versions: Sequence[PromptVersion],
    moves: Iterable[LabelMove],
    declared: int | None,
    requested: int | None = None,
) -> Routing:
    """Decide both versions of a rollback or kill switch, or refuse with a ContainmentError.

    - an unassigned incident is refused: the prompt comes first;
    - a prompt with no registered version is refused (nothing exists to act on);
    - a requested target must be a registered version other than the live one;
    - without one, a rollback takes ``default_target`` and is refused when there is none;
      a kill switch routes to the same fallback when there is one, else only disables.
    """
    _require_prompt(action, prompt_id, versions)
    moves = list(moves)
    numbers = _numbers(versions)
    rollback = action is ContainmentAction.ROLLBACK
    live = live_version(versions, moves, declared)
    if requested is not None:
        if requested not in numbers:
            raise ContainmentError(
                f"{prompt_id} has no version {requested} (it has {version_range(numbers)}): name a registered version"
            )
        if requested == live:
            raise ContainmentError(f"{prompt_id} v{requested} is already live")
        return Routing(live, requested)
    target = default_target(versions, moves, live)
    if rollback and target is None:
        if live is None:
            why = f"which version of {prompt_id} is live is unknown: no production label, no version on the incident"
        elif any(n < live for n in numbers):
            why = f"every version of {prompt_id} before v{live} has the same text"
        else:
            why = f"{prompt_id} has no version before v{live}"
        raise ContainmentError(f"{NOTHING_TO_ROLL_BACK} or name one with --to ({why})")
    return Routing(live, target)


def check_remediation_version(prompt_id: str, version: int | None, numbers: Collection[int], what: str) -> int:
    """A staging or promoted milestone names a registered version of the incident's prompt."""
    if is_unassigned(prompt_id):
        raise ContainmentError(f"this incident's prompt is unassigned: set it before stamping {what}")
    if version is None:
        raise ContainmentError(f"which version of {prompt_id} was {what}? give its number (--version N)")
    if version not in numbers:
        if not numbers:
            raise ContainmentError(
                f"{prompt_id} has no registered version: {REGISTER_HINT} (the fix too), then stamp {what}"
            )
        raise ContainmentError(
            f"{prompt_id} has no version {version} (it has {version_range(numbers)}): register the fix first"
        )
    return version


def change_summary(live_text: str, target_text: str) -> str:
    """The size of what a rollback changes, in its own direction: from the live text to the
    target ("+2 −5 lines" means routing adds 2 lines and removes 5 of what is live now)."""
    from .diff import diff_texts

    stats = diff_texts(live_text, target_text).stats
    return f"+{stats.added} −{stats.removed} lines"
