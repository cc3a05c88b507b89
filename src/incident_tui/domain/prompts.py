"""Prompt versions and their labels: the registry's nouns and rules, without storage.

A prompt id has versions 1, 2, 3… in registration order. Labels (production, staging,
last-known-good) point at versions and move; every move is kept, so the registry can
answer "which version was live at 14:02?" and "what was the last good one before v7?".
Times are timezone-aware datetimes here and ISO 8601 strings with an offset on disk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from incident_tui.domain.errors import IncidentTuiError

PRODUCTION = "production"
STAGING = "staging"
LAST_KNOWN_GOOD = "last-known-good"
LABELS: tuple[str, ...] = (PRODUCTION, STAGING, LAST_KNOWN_GOOD)

# The prompt id of an incident nobody has tied to a prompt yet (an alert without a prompt
# label). Parenthesised so it can never be mistaken for, or registered as, a real id.
UNASSIGNED = "(unassigned)"


class PromptError(IncidentTuiError):
    """A registry request that cannot be met; the message is one plain line for a user."""


class UnknownPrompt(PromptError):
    """No version of that prompt id is registered."""


class UnknownVersion(PromptError):
    """The prompt exists but has no such version."""


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """One registered text of a prompt.

    `source` says where it came from: "git:<commit>:<path>", "file:<path>" or "text".
    `commit` is the git commit for git imports. `created_at` is the author date for git
    imports, the file's mtime for directory imports, the registration time otherwise.
    """

    prompt_id: str
    version: int
    text: str
    created_at: datetime
    source: str
    sha256: str
    author: str | None = None
    note: str | None = None
    commit: str | None = None
    source_name: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return {
            "prompt_id": self.prompt_id,
            "version": self.version,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "source": self.source,
            "sha256": self.sha256,
            "author": self.author,
            "note": self.note,
            "commit": self.commit,
            "source_name": self.source_name,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PromptVersion:
        return cls(
            prompt_id=doc["prompt_id"],
            version=int(doc["version"]),
            text=doc["text"],
            created_at=datetime.fromisoformat(doc["created_at"]),
            source=doc.get("source") or "text",
            sha256=doc.get("sha256") or text_sha256(doc["text"]),
            author=doc.get("author"),
            note=doc.get("note"),
            commit=doc.get("commit"),
            source_name=doc.get("source_name"),
        )

    def summary(self) -> dict[str, Any]:
        """The listing fields (everything but the text), JSON-ready."""
        doc = self.to_doc()
        del doc["text"]
        doc["size"] = len(self.text.encode("utf-8"))
        return doc


@dataclass(frozen=True, slots=True)
class LabelMove:
    """A label pointed at `version` from `at` on; `previous_version` is where it pointed before."""

    prompt_id: str
    label: str
    version: int
    previous_version: int | None
    at: datetime
    who: str
    why: str
    incident_id: str | None = None
    seq: int = 0

    def to_doc(self) -> dict[str, Any]:
        return {
            "prompt_id": self.prompt_id,
            "label": self.label,
            "version": self.version,
            "previous_version": self.previous_version,
            "at": self.at.isoformat(),
            "who": self.who,
            "why": self.why,
            "incident_id": self.incident_id,
            "seq": self.seq,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> LabelMove:
        return cls(
            prompt_id=doc["prompt_id"],
            label=doc["label"],
            version=int(doc["version"]),
            previous_version=doc.get("previous_version"),
            at=datetime.fromisoformat(doc["at"]),
            who=doc.get("who") or "",
            why=doc.get("why") or "",
            incident_id=doc.get("incident_id"),
            seq=int(doc.get("seq") or 0),
        )


@dataclass(frozen=True, slots=True)
class PromptSummary:
    """One prompt id in a listing."""

    prompt_id: str
    version_count: int
    latest_version: int
    latest_at: datetime
    labels: dict[str, int]


def text_sha256(text: str) -> str:
    """Content hash used to recognise a text that is already registered."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def natural_key(name: str) -> list[Any]:
    """Sort key where digit runs compare as numbers: v2 < v10, prompt-9 < prompt-10."""
    # re.split with a group alternates text, number, text…, so positions compare like types.
    return [int(part) if i % 2 else part.casefold() for i, part in enumerate(re.split(r"(\d+)", name))]


# "7", "v7" or "V7"; up to nine digits, so a pasted hash or timestamp is not read as a version.
_VERSION_RE = re.compile(r"v?(\d{1,9})", re.IGNORECASE)


def parse_version(text: str) -> int | None:
    """A version number as people type it ("7", "v7", " V7 "); None when ``text`` is not one."""
    match = _VERSION_RE.fullmatch(text.strip())
    return int(match.group(1)) if match else None


def validate_label(label: str) -> str:
    """Return the label if it is one of LABELS, else raise PromptError naming them."""
    if label not in LABELS:
        raise PromptError(f"unknown label {label!r}: use one of {', '.join(LABELS)}")
    return label


def ordered(moves: Iterable[LabelMove]) -> list[LabelMove]:
    """Moves oldest first; `seq` breaks ties between moves stamped in the same instant."""
    return sorted(moves, key=lambda m: (m.at, m.seq))


def labels_at(moves: Iterable[LabelMove], when: datetime | None = None) -> dict[str, int]:
    """Where each label pointed at `when` (now when None), from the move history."""
    current: dict[str, int] = {}
    for move in ordered(moves):
        if when is not None and move.at > when:
            break
        current[move.label] = move.version
    return current


def previous_label_version(moves: Iterable[LabelMove], label: str = PRODUCTION) -> int | None:
    """The version `label` pointed at before its current one (None if it never moved away)."""
    history = [m.version for m in ordered(moves) if m.label == label]
    if not history:
        return None
    current = history[-1]
    for version in reversed(history):
        if version != current:
            return version
    return None


def version_live_at(
    versions: Sequence[PromptVersion], moves: Iterable[LabelMove], when: datetime
) -> int | None:
    """The version serving production at `when`.

    The production label's history decides; before the label was ever set (or for a
    prompt never labelled), the newest version created by `when` is taken as live.
    """
    live = labels_at(moves, when).get(PRODUCTION)
    if live is not None:
        return live
    created = [v for v in versions if v.created_at <= when]
    if not created:
        return None
    return max(created, key=lambda v: v.version).version


def last_known_good(
    versions: Sequence[PromptVersion], moves: Iterable[LabelMove], failing_version: int
) -> int | None:
    """The version to compare a failing one against (and to roll back to).

    In order: the newest position of the last-known-good label that is older than the
    failing version; else the production version the failing one replaced; else the
    newest older version. A candidate whose text equals the failing text is skipped:
    a diff against it would show nothing. None when there is no candidate.
    """
    by_number = {v.version: v for v in versions}
    failing = by_number.get(failing_version)
    failing_sha = failing.sha256 if failing else None

    def usable(version: int | None) -> bool:
        if version is None or version == failing_version:
            return False
        candidate = by_number.get(version)
        if candidate is None:
            return False
        return candidate.sha256 != failing_sha

    history = ordered(moves)
    for move in reversed(history):
        if move.label == LAST_KNOWN_GOOD and move.version < failing_version and usable(move.version):
            return move.version
    for move in history:
        if move.label == PRODUCTION and move.version == failing_version:
            if usable(move.previous_version):
                return move.previous_version
            break
    for version in sorted(by_number, reverse=True):
        if version < failing_version and usable(version):
            return version
    return None


def next_version_number(versions: Sequence[PromptVersion]) -> int:
    """Versions are numbered 1, 2, 3… in registration order."""
    return max((v.version for v in versions), default=0) + 1


def is_new_text(versions: Sequence[PromptVersion], text: str) -> bool:
    """A new version is registered only when the text differs from the latest one."""
    if not versions:
        return True
    latest = max(versions, key=lambda v: v.version)
    return latest.sha256 != text_sha256(text)
