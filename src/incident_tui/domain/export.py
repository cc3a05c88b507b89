"""Render a postmortem for other tools: Markdown, plain text, Slack mrkdwn, Jira wiki markup.

Every format walks the same template (domain/postmortem.SECTIONS), so field names and order
are the seed's in each. User text is escaped for each format where the format would otherwise
read it as markup — Markdown links, images, autolinks and HTML; Slack's <url|text>, <!channel>
and <@U…> mentions; Jira's [text|url] links, {macros} and !images! — so a link in outside text
stays text, never live. Static labels are the only thing ever wrapped in bold, so user text never
has to survive inside a formatting span. Control and bidi characters in user text are shown
visibly (domain.text.neutralise), never passed on.

Pure: no textual, no tinydb.
"""

from __future__ import annotations

import re

from incident_tui.domain.errors import IncidentTuiError
from .postmortem import SECTIONS, ActionItem, ActionKind, Postmortem, section
from .text import clean, neutralise

FORMATS: tuple[str, ...] = ("markdown", "text", "slack", "jira")
EXTENSIONS = {"markdown": "md", "text": "txt", "slack": "slack.txt", "jira": "jira.txt"}
EMPTY = "—"

# Header rows as the template names them: start and end share one line there.
_HEADER_ROWS = (
    ("Incident ID", ("incident_id",)),
    ("Prompt ID", ("prompt_id",)),
    ("Prompt version at time of incident", ("prompt_version",)),
    ("Date/Time start – end", ("started_at", "ended_at")),
    ("Duration", ("duration",)),
    ("Severity", ("severity",)),
    ("Prepared by", ("prepared_by",)),
    ("Review date", ("review_date",)),
    ("Authors", ("authors",)),
)
_URL_RE = re.compile(r"^https?://[^\s<>|\[\]{}\"]+$")


def _clean(text: str, *, multiline: bool = True) -> str:
    # clean: no escape sequences, U+2028/U+2029 as the line breaks they render as (then escaped
    # like any other); neutralise: bidi overrides and other invisible controls shown, not applied.
    return neutralise(clean(text, multiline=multiline))


class ExportError(IncidentTuiError, ValueError):
    """An unknown format or section; the message lists the known ones."""


def filename(pm: Postmortem, fmt: str) -> str:
    """A file name for an export: ``INC-…-postmortem.md``."""
    return f"{pm.incident_id}-postmortem.{EXTENSIONS[_check_format(fmt)]}"


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
    return fmt


# --- the formats -----------------------------------------------------------------------------


class _Text:
    """Plain text: the template's names as labels and headings; nothing to escape."""

    def esc(self, text: str) -> str:
        return text

    def block(self, text: str) -> str:
        return text

    def title(self, pm: Postmortem) -> str:
        return f"POSTMORTEM {pm.incident_id}" + (f" — {pm.title}" if pm.title else "")

    def heading(self, title: str) -> str:
        return title

    def _indent(self, text: str, pad: str) -> str:
        return text.replace("\n", "\n" + pad)

    def labelled(self, label: str, text: str) -> str:
        return f"{label}: {self._indent(self.block(text), '  ') if text else EMPTY}"

    def fields(self, rows: list[tuple[str, str]]) -> str:
        return "\n".join(self.labelled(label, value) for label, value in rows)

    def pairs(self, rows: list[tuple[str, str]]) -> str:
        return "\n".join(self.labelled(label, value) for label, value in rows)

    def prose(self, text: str) -> str:
        return self.block(text) if text else EMPTY

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"- {self._indent(self.block(i), '  ')}" for i in items) if items else EMPTY

    def timeline(self, lines: list[str]) -> str:
        return "\n".join(lines) if lines else EMPTY

    def link(self, url: str) -> str:
        return url

    def actions(self, items: list[ActionItem], waivers: dict[ActionKind, str]) -> str:
        out = []
        for n, item in enumerate(items, start=1):
            details = " · ".join(
                f"{label}: {value or EMPTY}"
                for label, value in (
                    ("Kind", item.kind.label),
                    ("Owner", self.esc(item.owner)),
                    ("Due", self.esc(item.due)),
                    ("Status", item.status.label),
                    ("Tracking", self.link(item.link) if item.link else ""),
                )
            )
            out.append(f"{n}. {self._indent(self.block(item.text), '   ') or EMPTY}\n   {details}")
        out += self._waivers(waivers)
        return "\n".join(out) if out else EMPTY

    def _waivers(self, waivers: dict[ActionKind, str]) -> list[str]:
        return [f"Waived: {kind.label} — {self.esc(' '.join(reason.split()))}"
                for kind, reason in _ordered_waivers(waivers)]


class _Markdown(_Text):
    """CommonMark/GFM: header and action items as tables, sections as ## headings."""

    # Backslash, raw HTML and autolinks (< >), and link/image brackets: "[Ack](https://…)" and
    # "![x](…)" stay text (\[Ack\](https://…)); a bare URL is text anyway.
    _INLINE = re.compile(r"([\\<>\[\]])")
    # A line that would start a heading, quote, list, rule, fence or setext underline.
    _LEADING = re.compile(r"^(\s*)(#|>|[-+*]|=|\d+[.)]|`{3}|~{3})")

    def esc(self, text: str) -> str:
        return self._INLINE.sub(r"\\\1", text)

    def block(self, text: str) -> str:
        return "\n".join(self._LEADING.sub(self._escape_marker, self.esc(line)) for line in text.split("\n"))

    @staticmethod
    def _escape_marker(match: re.Match[str]) -> str:
        marker = match.group(2)
        if marker[0].isdigit():  # "1." → "1\." keeps the number, loses the list
            return f"{match.group(1)}{marker[:-1]}\\{marker[-1]}"
        return f"{match.group(1)}\\{marker}"

    def cell(self, text: str) -> str:
        if not text:
            return EMPTY
        return self.esc(text).replace("|", "\\|").replace("\n", "<br>")

    def title(self, pm: Postmortem) -> str:
        return f"# Postmortem {pm.incident_id}" + (f" — {self.cell(pm.title)}" if pm.title else "")

    def heading(self, title: str) -> str:
        return f"## {title}"

    def labelled(self, label: str, text: str) -> str:
        return f"**{label}:** {self.block(text) if text else EMPTY}"

    def fields(self, rows: list[tuple[str, str]]) -> str:
        lines = ["| Field | Value |", "| --- | --- |"]
        lines += [f"| {label} | {self.cell(value)} |" for label, value in rows]
        return "\n".join(lines)

    def pairs(self, rows: list[tuple[str, str]]) -> str:
        # Consecutive lines would join into one paragraph: a list keeps them apart.
        return "\n".join(f"- {self._indent(self.labelled(label, value), '  ')}" for label, value in rows)

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"- {self._indent(self.block(i), '  ')}" for i in items) if items else EMPTY

    def timeline(self, lines: list[str]) -> str:
        return self.bullets(lines)

    def link(self, url: str) -> str:
        return f"<{url}>" if _URL_RE.match(url) else self.cell(url)

    def actions(self, items: list[ActionItem], waivers: dict[ActionKind, str]) -> str:
        out = []
        if items:
            out += ["| # | Action | Kind | Owner | Due | Status | Tracking |",
                    "| --- | --- | --- | --- | --- | --- | --- |"]
            for n, item in enumerate(items, start=1):
                cells = [str(n), self.cell(item.text), item.kind.label, self.cell(item.owner), self.cell(item.due),
                         item.status.label, self.link(item.link) if item.link else EMPTY]
                out.append("| " + " | ".join(cells) + " |")
        if waivers:
            out.append("")
            out += [f"- {line}" for line in self._waivers(waivers)]
        return "\n".join(out).strip("\n") if out else EMPTY


class _Slack(_Markdown):
    """Slack mrkdwn: no headings or tables, so bold labels and bullet lines; &, < and > escaped."""

    def esc(self, text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def block(self, text: str) -> str:
        return self.esc(text)

    def title(self, pm: Postmortem) -> str:
        return f"*Postmortem {pm.incident_id}*" + (f" — {self.esc(pm.title)}" if pm.title else "")

    def heading(self, title: str) -> str:
        return f"*{title}*"

    def labelled(self, label: str, text: str) -> str:
        return f"*{label}:* {self._indent(self.block(text), '    ') if text else EMPTY}"

    def fields(self, rows: list[tuple[str, str]]) -> str:
        return "\n".join(self.labelled(label, value) for label, value in rows)

    def pairs(self, rows: list[tuple[str, str]]) -> str:
        return self.fields(rows)

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"• {self._indent(self.block(i), '   ')}" for i in items) if items else EMPTY

    def link(self, url: str) -> str:
        return f"<{url}>" if _URL_RE.match(url) else self.esc(url)

    def actions(self, items: list[ActionItem], waivers: dict[ActionKind, str]) -> str:
        out = []
        for n, item in enumerate(items, start=1):
            details = " · ".join(
                [f"_{item.kind.label}_", f"owner: {self.esc(item.owner) or EMPTY}",
                 f"due: {self.esc(item.due) or EMPTY}", item.status.label] + ([self.link(item.link)] if item.link else [])
            )
            out.append(f"{n}. {self._indent(self.block(item.text), '    ') or EMPTY}\n    {details}")
        out += [f"• {line}" for line in self._waivers(waivers)]
        return "\n".join(out) if out else EMPTY


class _Jira(_Text):
    """Jira wiki markup: h1./h2. headings, ||header|| tables, * lists; markup characters escaped."""

    _INLINE = re.compile(r"([*_|{}\[\]!^~])")
    _LEADING = re.compile(r"^(\s*)([-#]|h[1-6]\.|bq\.)")

    def esc(self, text: str) -> str:
        # "\\" is a line break in Jira, so a literal backslash goes in as an entity.
        return self._INLINE.sub(r"\\\1", text.replace("\\", "&#92;"))

    def block(self, text: str) -> str:
        return "\n".join(self._LEADING.sub(r"\1\\\2", self.esc(line)) for line in text.split("\n"))

    def cell(self, text: str) -> str:
        return self.esc(text).replace("\n", " \\\\ ") if text else EMPTY

    def title(self, pm: Postmortem) -> str:
        return f"h1. Postmortem {pm.incident_id}" + (f" — {self.esc(pm.title)}" if pm.title else "")

    def heading(self, title: str) -> str:
        return f"h2. {title}"

    def labelled(self, label: str, text: str) -> str:
        return f"*{label}:* {self.block(text) if text else EMPTY}"

    def fields(self, rows: list[tuple[str, str]]) -> str:
        return "\n".join(["||Field||Value||"] + [f"|{label}|{self.cell(value)}|" for label, value in rows])

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"* {self.cell(i)}" for i in items) if items else EMPTY

    def timeline(self, lines: list[str]) -> str:
        return self.bullets(lines)

    def link(self, url: str) -> str:
        return f"[{url}]" if _URL_RE.match(url) else self.cell(url)

    def actions(self, items: list[ActionItem], waivers: dict[ActionKind, str]) -> str:
        out = []
        if items:
            out.append("||#||Action||Kind||Owner||Due||Status||Tracking||")
            for n, item in enumerate(items, start=1):
                cells = [str(n), self.cell(item.text), item.kind.label, self.cell(item.owner), self.cell(item.due),
                         item.status.label, self.link(item.link) if item.link else EMPTY]
                out.append("|" + "|".join(cells) + "|")
        out += [f"* {line}" for line in self._waivers(waivers)]
        return "\n".join(out) if out else EMPTY


_RENDERERS = {"markdown": _Markdown(), "text": _Text(), "slack": _Slack(), "jira": _Jira()}


def _ordered_waivers(waivers: dict[ActionKind, str]) -> list[tuple[ActionKind, str]]:
    return [(kind, waivers[kind]) for kind in ActionKind if waivers.get(kind, "").strip()]


def _value(pm: Postmortem, key: str) -> str:
    return _clean(pm.get(key)).strip()


def _header(pm: Postmortem, r: _Text) -> str:
    rows = []
    for label, keys in _HEADER_ROWS:
        values = [_value(pm, k) for k in keys]
        if len(keys) == 2:
            value = f"{values[0] or EMPTY} – {values[1] or EMPTY}" if any(values) else ""
        else:
            value = values[0]
        rows.append((label, value))
    rows.append(("Document status", pm.status.label))
    return f"{r.title(_clean_title(pm))}\n\n{r.fields(rows)}"


def _clean_title(pm: Postmortem) -> Postmortem:
    # The title reaches the heading only, through the renderer's own escaping.
    copy = Postmortem(pm.incident_id, title=_clean(pm.title, multiline=False))
    return copy


def _body(pm: Postmortem, key: str, r: _Text) -> str:
    if key == "timeline":
        return r.timeline([line for line in _value(pm, "timeline").split("\n") if line.strip()])
    if key == "root_cause":
        return "\n\n".join(
            [r.prose(_value(pm, "root_cause")), r.labelled("Trigger", _value(pm, "trigger")),
             r.labelled("Resolution", _value(pm, "resolution"))]
        )
    if key == "detection":
        return r.pairs(
            [("Time from start to detection", _value(pm, "detection_gap")),
             ("Method", _value(pm, "detection_method")),
             ("Why not sooner", _value(pm, "detection_why"))]
        )
    if key == "impact":
        return r.pairs(
            [("Affected requests", _value(pm, "impact_requests")),
             ("Affected segments", _value(pm, "impact_segments")),
             ("Business impact", _value(pm, "impact_business"))]
        )
    if key == "factors":
        return r.bullets([_clean(f).strip() for f in pm.contributing_factors if f.strip()])
    if key == "actions":
        items = [
            ActionItem(_clean(a.text).strip(), _clean(a.owner, multiline=False), _clean(a.due, multiline=False),
                       a.kind, a.status, _clean(a.link, multiline=False))
            for a in pm.action_items
        ]
        return r.actions(items, {k: _clean(v) for k, v in pm.waivers.items()})
    (only,) = section(key).keys
    return r.prose(_value(pm, only))


def render_section(pm: Postmortem, key: str, fmt: str) -> str:
    """One section (the header includes the document title), with its heading."""
    r = _RENDERERS[_check_format(fmt)]
    try:
        spec = section(key)
    except KeyError as exc:
        raise ExportError(str(exc.args[0])) from None
    if key == "header":
        return _header(pm, r) + "\n"
    # Markdown needs a blank line under headings; the others read better the same way in text.
    gap = "\n" if isinstance(r, _Markdown) and not isinstance(r, _Slack) else ""
    return f"{r.heading(spec.title)}\n{gap}{_body(pm, key, r)}\n"


def render(pm: Postmortem, fmt: str, section_key: str | None = None) -> str:
    """The whole postmortem (or the section ``section_key``) in ``fmt``: one of FORMATS."""
    if section_key is not None:
        return render_section(pm, section_key, fmt)
    _check_format(fmt)
    return "\n".join(render_section(pm, s.key, fmt) for s in SECTIONS)
