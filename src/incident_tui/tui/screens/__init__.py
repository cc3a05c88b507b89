"""Dialog screens. Imported on first use: they pull in TextArea and Select, which start-up does not need."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace


@cache
def dialogs() -> SimpleNamespace:
    """The dialog classes: ChoiceScreen, ConfirmScreen, Field, FormScreen, HelpScreen, SamplesScreen,
    TextViewScreen."""
    from incident_tui.tui.screens.choice import ChoiceScreen
    from incident_tui.tui.screens.form import ConfirmScreen, Field, FormScreen
    from incident_tui.tui.screens.help import HelpScreen
    from incident_tui.tui.screens.samples import SamplesScreen
    from incident_tui.tui.screens.text_view import TextViewScreen

    return SimpleNamespace(
        ChoiceScreen=ChoiceScreen, ConfirmScreen=ConfirmScreen, Field=Field, FormScreen=FormScreen,
        HelpScreen=HelpScreen, SamplesScreen=SamplesScreen, TextViewScreen=TextViewScreen,
    )
