"""Team mode's server pieces that need no browser: the app command, loopback detection."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from incident_tui.serve import app_command, is_loopback


def test_app_command_is_quoted_arguments_never_shell_text(tmp_path):
    db = tmp_path / "a b;touch pwned $(id).json"
    cfg = tmp_path / "it's.toml"
    argv = shlex.split(app_command(db, cfg))
    assert argv == [sys.executable, "-m", "incident_tui", "--db", str(db), "--config", str(cfg)]
    assert shlex.split(app_command(Path("x.json"), None))[-2:] == ["--db", "x.json"]


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                       ("127.1.2.3", True), ("0.0.0.0", False), ("10.0.0.5", False),
                                       ("example.com", False), ("::", False)])
def test_loopback(host, loop):
    assert is_loopback(host) is loop
