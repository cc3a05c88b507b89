"""Failure (or good) samples from a file: JSONL, chat-style JSONL (``messages``) or CSV with a header.

Parsing is all-or-nothing: the first bad line is reported by its number and nothing is returned,
so an import never writes half a file.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any
from incident_tui.domain.errors import IncidentTuiError


class SampleFileError(IncidentTuiError, ValueError):
    """One line: which line of the file, and what is wrong with it."""


@dataclass(frozen=True)
class SampleRecord:
    input: str
    output: str
    note: str = ""


@dataclass(frozen=True)
class Fields:
    input: str = "input"
    output: str = "output"
    note: str = "note"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _content(message: dict[str, Any]) -> str:
    content = message.get("content", "")
    if isinstance(content, list):  # [{"type": "text", "text": "..."}] parts
        return "\n".join(_text(p.get("text", "")) if isinstance(p, dict) else _text(p) for p in content)
    return _text(content)


def _from_chat(messages: object, where: str) -> SampleRecord:
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise SampleFileError(f"{where}: 'messages' must be a list of objects with role and content")
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    if last is None:
        raise SampleFileError(f"{where}: no assistant message: nothing to call the output")
    before = messages[:last]
    prompt = "\n".join(f"{m.get('role', '?')}: {_content(m)}" for m in before)
    return SampleRecord(prompt, _content(messages[last]))


def parse_jsonl(text: str, fields: Fields = Fields()) -> list[SampleRecord]:
    """One JSON object per line; blank lines skipped; ``messages`` records are chat transcripts."""
    out: list[SampleRecord] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SampleFileError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise SampleFileError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        if fields.output not in obj and "messages" in obj:
            record = _from_chat(obj["messages"], where)
            out.append(SampleRecord(record.input, record.output, _text(obj.get(fields.note))))
            continue
        if fields.output not in obj:
            raise SampleFileError(f"{where}: no '{fields.output}' field (use --output-field, or chat 'messages')")
        output = _text(obj[fields.output])
        if not output.strip():
            raise SampleFileError(f"{where}: the output is empty")
        out.append(SampleRecord(_text(obj.get(fields.input)), output, _text(obj.get(fields.note))))
    if not out:
        raise SampleFileError("the file holds no samples")
    return out


def parse_csv(text: str, fields: Fields = Fields()) -> list[SampleRecord]:
    """A header row naming the columns, then one sample per row."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        raise SampleFileError("the file holds no samples")
    if fields.output not in reader.fieldnames:
        raise SampleFileError(
            f"line 1: no '{fields.output}' column (columns: {', '.join(reader.fieldnames)}; use --output-field)"
        )
    out: list[SampleRecord] = []
    try:
        for row in reader:
            where = f"line {reader.line_num}"
            if None in row:
                raise SampleFileError(f"{where}: more cells than the header has columns")
            output = row.get(fields.output) or ""
            if not output.strip():
                raise SampleFileError(f"{where}: the output is empty")
            out.append(SampleRecord(row.get(fields.input) or "", output, row.get(fields.note) or ""))
    except csv.Error as exc:
        raise SampleFileError(f"line {reader.line_num}: {exc}") from None
    if not out:
        raise SampleFileError("the file holds no samples")
    return out


def parse_samples(text: str, name: str, fields: Fields = Fields()) -> list[SampleRecord]:
    """By the file name: ``.csv`` is CSV, anything else JSONL (chat records recognised per line)."""
    if name.lower().endswith(".csv"):
        return parse_csv(text, fields)
    return parse_jsonl(text, fields)
