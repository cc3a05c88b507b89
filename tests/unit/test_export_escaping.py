"""Each export format escapes user text where the format would read it as markup."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_tui.domain.export import FORMATS, ExportError, filename, render
from incident_tui.domain.postmortem import ActionItem, ActionKind, Postmortem


def pm_with(**fields) -> Postmortem:
    pm = Postmortem("INC-20261125-001", title="Summaries invent refunds")
    pm.fields.update(fields)
    return pm


def unescaped(row: str, char: str) -> int:
    """How many ``char`` in ``row`` are markup, i.e. not preceded by an escaping backslash."""
    count, i = 0, 0
    while i < len(row):
        if row[i] == "\\":
            i += 2
            continue
        count += row[i] == char
        i += 1
    return count


def test_jira_escapes_markup_characters_in_user_text():
    pm = pm_with(summary="*bold* {code} [link] a|b _it_ !img!", impact_requests="5 | 10%")
    pm.contributing_factors = ["{% if %} untested"]
    pm.action_items = [ActionItem("fix *this*", "ana|bo", "2026-12-01", ActionKind.PREVENTS_RECURRENCE, link="[x]")]
    out = render(pm, "jira")
    assert r"\*bold\* \{code\} \[link\] a\|b \_it\_ \!img\!" in out
    assert r"* \{% if %\} untested" in out
    assert r"|1|fix \*this\*|prevents recurrence|ana\|bo|2026-12-01|open|\[x\]|" in out
    assert r"*Affected requests:* 5 \| 10%" in out


def test_jira_keeps_backslashes_visible_and_line_starts_plain():
    out = render(pm_with(summary="C:\\temp\n- not a list\n# not numbered\nh1. not a heading"), "jira", "summary")
    assert "C:&#92;temp" in out
    assert "\\- not a list" in out and "\\# not numbered" in out and "h1\\. not a heading" not in out
    assert "\\h1. not a heading" in out


def test_jira_table_cells_keep_their_columns():
    pm = pm_with(prepared_by="ana\nbo")
    assert "|Prepared by|ana \\\\ bo|" in render(pm, "jira")


def test_slack_escapes_control_characters():
    pm = pm_with(summary="if a < b && c > d <!channel> <@U123>")
    out = render(pm, "slack", "summary")
    assert "if a &lt; b &amp;&amp; c &gt; d &lt;!channel&gt; &lt;@U123&gt;" in out
    assert "<!channel>" not in out


def test_slack_links_only_real_urls():
    pm = pm_with()
    pm.action_items = [
        ActionItem("a", link="https://jira.example/PM-1"),
        ActionItem("b", link="<!here|x>"),
    ]
    out = render(pm, "slack", "actions")
    assert "<https://jira.example/PM-1>" in out
    assert "&lt;!here|x&gt;" in out and "<!here" not in out


def test_markdown_tables_and_lists_survive_user_text():
    pm = pm_with(prepared_by="ana | bo", authors="a\nb")
    pm.contributing_factors = ["- nested?", "1. numbered?", "two\nlines"]
    pm.action_items = [ActionItem("x | y", "o", "2026-12-01")]
    out = render(pm, "markdown")
    assert "| Prepared by | ana \\| bo |" in out
    assert "| Authors | a<br>b |" in out
    assert "- \\- nested?" in out and "- 1\\. numbered?" in out
    assert "- two\n  lines" in out
    assert "| 1 | x \\| y | prevents recurrence | o | 2026-12-01 | open | — |" in out


def test_markdown_prose_cannot_start_blocks_or_html():
    out = render(pm_with(summary="# not a heading\n> not a quote\n<script>x</script>\n---"), "markdown", "summary")
    assert "\\# not a heading\n\\> not a quote\n\\<script\\>x\\</script\\>\n\\---" in out


def test_plain_text_is_left_as_typed():
    out = render(pm_with(summary="*a* | <b> {c} [d]"), "text", "summary")
    assert out == "SUMMARY\n*a* | <b> {c} [d]\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_terminal_escapes_never_reach_an_export(fmt):
    pm = pm_with(summary="red \x1b[31mtext\x1b[0m \x1b]52;c;ZXZpbA==\x07done", title="t\x1b[2J")
    pm.contributing_factors = ["\x1b[1mbold\x1b[0m"]
    out = render(pm, fmt)
    assert "\x1b" not in out and "\x07" not in out
    assert "red text done" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_fields_show_a_dash(fmt):
    out = render(Postmortem("INC-1"), fmt, "summary")
    assert out.rstrip().endswith("—")


def test_unknown_format_or_section():
    with pytest.raises(ExportError, match="one of: markdown, text, slack, jira"):
        render(pm_with(), "html")
    with pytest.raises(ExportError, match="unknown section"):
        render(pm_with(), "text", "appendix")


def test_file_names():
    assert filename(pm_with(), "markdown") == "INC-20261125-001-postmortem.md"
    assert filename(pm_with(), "jira") == "INC-20261125-001-postmortem.jira.txt"


cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(cell_text, cell_text, cell_text)
def test_markdown_action_rows_always_have_eight_pipes(text, owner, due):
    pm = pm_with()
    pm.action_items = [ActionItem(text, owner, due)]
    out = render(pm, "markdown", "actions")
    row = next(line for line in out.splitlines() if line.startswith("| 1 |"))
    assert "\n" not in row
    assert unescaped(row, "|") == 8


@given(cell_text, cell_text)
def test_jira_action_rows_always_have_eight_pipes(text, owner):
    pm = pm_with()
    pm.action_items = [ActionItem(text, owner, "2026-12-01")]
    out = render(pm, "jira", "actions")
    row = next(line for line in out.splitlines() if line.startswith("|1|"))
    assert unescaped(row, "|") == 8


@given(cell_text)
def test_slack_never_lets_angle_brackets_through(text):
    out = render(pm_with(summary=text), "slack", "summary")
    assert "<" not in out and ">" not in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_unicode_line_separators_are_line_breaks(fmt):
    pm = pm_with(prepared_by="ana\u2028bo", summary="one\u2029two")
    out = render(pm, fmt)
    assert "\u2028" not in out and "\u2029" not in out


# --- outside text that would be live: links, images, mentions, macros, controls --------------

PHISH = "[Ack here](https://evil.example/phish)"
PIXEL = "![x](https://evil.example/pixel.png)"
HOSTILE_TITLE = f"{PHISH} {PIXEL} <https://evil.example/auto> <!channel> <@U123|boss> [click|https://evil.example] {{html}}"
HOSTILE_NOTE = f"see {PHISH} and {PIXEL} <!here> {{noformat}}x{{noformat}} \u202eevil\u202c \u2066iso\u2069"


@pytest.fixture
def hostile_exports(db):
    from incident_tui.services.incidents import IncidentService
    from incident_tui.services.postmortem import PostmortemService

    incidents = IncidentService(db)
    inc = incidents.declare(title=HOSTILE_TITLE, prompt_id="support-summary", version=None, severity="P1",
                            detected_by="alert", new_prompt=True)
    incidents.note(inc.id, HOSTILE_NOTE, star=True)
    pms = PostmortemService(db, incidents)
    return {fmt: pms.render(inc.id, fmt) for fmt in FORMATS}


def test_markdown_keeps_links_and_images_from_outside_text_as_text(hostile_exports):
    from markdown_it import MarkdownIt

    out = hostile_exports["markdown"]
    assert "\\[Ack here\\](https://evil.example/phish)" in out and "!\\[x\\](https://evil.example/pixel.png)" in out
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert "<a " not in html and "<img" not in html  # nothing live, in the title or the starred note
    assert "[Ack here](https://evil.example/phish)" in html  # and the text reads as typed


def test_slack_keeps_mentions_and_links_as_text(hostile_exports):
    out = hostile_exports["slack"]
    assert "<!channel>" not in out and "<!here>" not in out and "<@U123" not in out and "<https://evil" not in out
    assert "&lt;!channel&gt;" in out and "&lt;!here&gt;" in out


def test_jira_keeps_links_images_and_macros_as_text(hostile_exports):
    out = hostile_exports["jira"]
    assert "\\[click\\|https://evil.example\\]" in out and "\\{noformat\\}x\\{noformat\\}" in out
    assert "\\!\\[x\\]" in out
    for line in out.splitlines():
        assert unescaped(line, "{") == 0 and unescaped(line, "[") == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_bidi_controls_are_shown_not_applied_in_every_format(hostile_exports, fmt):
    out = hostile_exports[fmt]
    assert "\u202e" not in out and "\u2066" not in out
    shown = {"markdown": r"\<U+202E\>evil\<U+202C\>", "slack": "&lt;U+202E&gt;evil&lt;U+202C&gt;"}
    assert shown.get(fmt, "<U+202E>evil<U+202C>") in out  # visible, then escaped like any other text
