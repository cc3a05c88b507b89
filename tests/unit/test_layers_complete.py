"""Every module of the package sits in a layer of the import contract, so a new one is checked too."""

from __future__ import annotations

import pkgutil
import re
import tomllib
from pathlib import Path

import incident_tui

ROOT = Path(__file__).resolve().parents[2]


def test_every_top_level_module_is_in_the_layers_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    named = {name for layer in layers["layers"] for name in re.split(r"\s*[:|]\s*", layer.strip())}
    modules = {f"incident_tui.{m.name}" for m in pkgutil.iter_modules(incident_tui.__path__)}
    assert modules - named == set()
