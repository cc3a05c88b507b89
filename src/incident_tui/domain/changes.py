"""What changed before an incident: model, config, prompt, data, deploy, other — ranked as suspects.

A change that landed before impact started is a suspect, closest first. A change after impact
start cannot have caused it: it is listed apart (``before_impact`` False), never ranked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class ChangeKind(StrEnum):
    MODEL = "model"  # model or provider version
    CONFIG = "config"  # temperature, max tokens, tools
    PROMPT = "prompt"  # a production label move (from the registry)
    DATA = "data"  # retrieval corpus, upstream schema
    DEPLOY = "deploy"
    OTHER = "other"


DEFAULT_WINDOW = timedelta(hours=72)


@dataclass
class Change:
    kind: ChangeKind
    summary: str
    at: datetime
    prompt_id: str | None = None  # None: applies to every prompt
    link: str = ""
    author: str = ""
    id: str = ""  # "CHG-12" for a recorded change, "LBL-3" for a registry label move
    from_version: int | None = None
    to_version: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind.value, "summary": self.summary, "at": self.at.isoformat(),
            "prompt_id": self.prompt_id, "link": self.link, "author": self.author,
        }
        if self.from_version is not None or self.to_version is not None:
            data["from_version"], data["to_version"] = self.from_version, self.to_version
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], id: str) -> Change:
        return cls(
            kind=ChangeKind(data["kind"]), summary=data["summary"], at=datetime.fromisoformat(data["at"]),
            prompt_id=data.get("prompt_id"), link=data.get("link", ""), author=data.get("author", ""), id=id,
            from_version=data.get("from_version"), to_version=data.get("to_version"),
        )


@dataclass(frozen=True)
class Suspect:
    change: Change
    before_impact: bool
    minutes_before_impact: float  # negative after impact start

    def to_json(self) -> dict[str, Any]:
        c = self.change
        data = {"id": c.id, "at": c.at.isoformat(), "kind": c.kind.value, "summary": c.summary,
                "prompt_id": c.prompt_id, "link": c.link, "author": c.author,
                "before_impact": self.before_impact,
                "minutes_before_impact": round(self.minutes_before_impact, 1)}
        if c.from_version is not None or c.to_version is not None:
            data["from_version"], data["to_version"] = c.from_version, c.to_version
        return data


def rank_suspects(changes: list[Change], *, prompt_id: str | None, impact_start: datetime,
                  until: datetime, window: timedelta = DEFAULT_WINDOW) -> list[Suspect]:
    """Changes to this prompt (or to all prompts) from ``window`` before impact start until ``until``.

    Before impact first, closest first; then those after impact start, in time order.
    """
    before: list[Suspect] = []
    after: list[Suspect] = []
    for c in changes:
        if c.prompt_id is not None and c.prompt_id != prompt_id:
            continue
        if c.at < impact_start - window or c.at > until:
            continue
        minutes = (impact_start - c.at).total_seconds() / 60
        (before if c.at <= impact_start else after).append(Suspect(c, c.at <= impact_start, minutes))
    before.sort(key=lambda s: (s.minutes_before_impact, s.change.id))
    after.sort(key=lambda s: (s.change.at, s.change.id))
    return before + after


def parse_window(text: str) -> timedelta:
    """ "72h", "3d", "90m" → a timedelta; one line of error otherwise."""
    text = text.strip().lower()
    units = {"m": 60, "h": 3600, "d": 86400}
    if len(text) >= 2 and text[-1] in units and text[:-1].isdigit() and int(text[:-1]) > 0:
        return timedelta(seconds=int(text[:-1]) * units[text[-1]])
    raise ValueError(f"not a window: {text!r} (e.g. 72h, 3d, 90m)")
