"""What the failure samples share (measured against good ones), with examples of each phrase."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from incident_tui.domain.models import FailureSample
from incident_tui.domain.phrases import PhraseScore, says
from incident_tui.domain.text import neutralise, visible
from incident_tui.tui.screens.dialog import Dialog

EXAMPLES = 3


class SamplesScreen(Dialog[None]):
    BINDINGS = [Binding("escape,q,S", "close", "close")]
    DEFAULT_CSS = """
    SamplesScreen #phrases { height: auto; max-height: 14; border: none; }
    SamplesScreen #examples { height: auto; }
    """

    def __init__(self, incident_id: str, samples: list[FailureSample], common, prompt_text: str = "") -> None:
        super().__init__(classes="form-screen")
        self.incident_id = incident_id
        self.samples = samples
        self.common = common  # services.samples.CommonGround
        self.prompt_text = prompt_text
        self.rows: list[tuple[str, PhraseScore]] = [("output", p) for p in common.outputs]
        self.rows += [("input", p) for p in common.inputs]

    def compose(self) -> ComposeResult:
        c = self.common
        with Vertical(id="form-box"):
            yield Static(Text(f"What the failures of {self.incident_id} share — ↑↓ phrase · esc close",
                              style="bold"), id="form-title")
            baseline = (f"{c.good_n} good samples as baseline: ranked by how much more often failures say it"
                        if c.good_n else "no good baseline (samples import --good): ranked by how many failures say it")
            yield Static(Text(f"{c.failing_n} failing samples · {baseline}", style="dim"))
            if c.failing_n < 2:
                yield Static(Text(f"{c.failing_n} failing sample(s). Add at least two (s, or samples import) "
                                  "to see what they share.", style="yellow"))
            elif not self.rows:
                yield Static(Text("Nothing stands out: no phrase is shared by enough failures"
                                  + (" more than by good outputs." if c.good_n else "."), style="yellow"))
            else:
                yield OptionList(*(Option(self._row(side, p)) for side, p in self.rows), id="phrases")
            with VerticalScroll(id="examples-box"):
                yield Static(id="examples")

    def _row(self, side: str, p: PhraseScore) -> Text:
        c = self.common
        row = Text(no_wrap=True, overflow="ellipsis")
        row.append(f"{side:<6} ", style="cyan" if side == "output" else "magenta")
        row.append(visible(p.phrase), style="bold")
        row.append(f"  {p.failing}/{c.failing_n} failing", style="")
        if c.good_n:
            row.append(f" · {p.good}/{c.good_n} good · log-odds {p.score:+.1f}", style="dim")
        if side == "output" and self.prompt_text and says(self.prompt_text, p.phrase):
            row.append("  ◆ the prompt says it", style="yellow")
        return row

    def on_mount(self) -> None:
        if self.rows:
            self.query_one("#phrases", OptionList).highlighted = 0
        else:
            self._show_examples(None)

    @on(OptionList.OptionHighlighted, "#phrases")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_examples(event.option_index)

    def _show_examples(self, index: int | None) -> None:
        block = Text()
        if index is None:
            picked = [s for s in self.samples if not s.good][:EXAMPLES]
            title = "failing samples"
        else:
            side, phrase = self.rows[index]
            picked = [s for s in self.samples if not s.good
                      and says(s.output if side == "output" else s.input, phrase.phrase)][:EXAMPLES]
            title = f"failing samples whose {side} says “{visible(phrase.phrase)}”"
        block.append(f"\n{title}:", style="bold")
        for sample in picked:
            block.append("\n  in:  ", style="dim")
            block.append(neutralise(_short(sample.input)))
            block.append("\n  out: ", style="dim")
            block.append(neutralise(_short(sample.output)))
            if sample.note:
                block.append(f"\n  why: {visible(_short(sample.note))}", style="italic")
            block.append("\n")
        self.query_one("#examples", Static).update(block)

    def action_close(self) -> None:
        self.dismiss(None)


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"
