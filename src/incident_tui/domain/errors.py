"""The one base class of every error incident-tui raises on purpose.

A catch list that names ``IncidentTuiError`` cannot forget an error class: every
refusal the product makes (bad input, unknown prompt, locked or corrupt store,
a hook that cannot run) derives from it. Subclasses keep their older built-in
base too (``ValueError``, ``LookupError``) so code written against those still
works. Anything that is *not* an ``IncidentTuiError`` is a bug, and the UI shows
it as one.
"""

from __future__ import annotations


class IncidentTuiError(Exception):
    """A refusal or failure the product expects and explains in one line."""
