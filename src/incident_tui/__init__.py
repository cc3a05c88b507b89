"""incident-tui: a keyboard-driven terminal dashboard for LLM prompt incident response."""

__version__ = "0.1.0"
