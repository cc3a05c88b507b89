"""What the failure samples share, side by side with whether the prompt says it too."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from incident_tui.domain.limits import cap_text
from incident_tui.domain.models import FailureSample
from incident_tui.domain.samples import SharedPhrase


class SamplesScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,S", "close", "close")]

    def __init__(self, incident_id: str, samples: list[FailureSample], phrases: list[SharedPhrase]) -> None:
        super().__init__(classes="form-screen")
        self.incident_id = incident_id
        self.samples = samples
        self.phrases = phrases

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-box"):
            yield Static(Text(f"Failure samples of {self.incident_id} — esc to close", style="bold"), id="form-title")
            if len(self.samples) < 2:
                yield Static(Text(f"{len(self.samples)} sample(s). Add at least two (s) to see what they share.",
                                  style="yellow"))
            elif not self.phrases:
                yield Static(Text("No phrase is shared by two or more outputs.", style="yellow"))
            else:
                table = Table(box=None, padding=(0, 1), expand=True)
                table.add_column("shared phrase")
                table.add_column("samples", justify="right")
                table.add_column("in prompt?")
                for p in self.phrases:
                    table.add_row(Text(p.phrase), f"{p.samples}/{len(self.samples)}",
                                  Text("yes — the prompt says it", style="yellow") if p.in_prompt else Text("no"))
                yield Static(table)
            for n, sample in enumerate(self.samples, 1):
                block = Text()
                block.append(f"\n#{n}", style="bold")
                if sample.note:
                    block.append(f" — {cap_text(sample.note)}", style="italic")
                block.append("\n  in:  ", style="dim")
                # Capped here too: a database written before the limits may hold more than they allow.
                block.append(cap_text(sample.input))
                block.append("\n  out: ", style="dim")
                block.append(cap_text(sample.output))
                yield Static(block)

    def action_close(self) -> None:
        self.dismiss(None)
