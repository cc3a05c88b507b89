"""The user's config file (TOML): hooks, playbook entries, user name, theme and key remaps.

Loaded once by the CLI and handed to the services and the app. A bad file raises ConfigError
with one line naming the file, the line and the key.
"""

from __future__ import annotations

import getpass
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_dir

from incident_tui.domain.models import TriageCategory

CONFIG_ENV = "INCIDENT_TUI_CONFIG"
LOCK_TIMEOUT_ENV = "INCIDENT_TUI_LOCK_TIMEOUT"
USER_ENV = "INCIDENT_TUI_USER"


class ConfigError(ValueError):
    """One line: file, line, key, what is wrong."""


@dataclass
class HookConfig:
    rollback: list[str] = field(default_factory=list)
    kill_switch: list[str] = field(default_factory=list)
    timeout: float = 60.0


def _default_severity_map() -> dict[str, str]:
    return {"critical": "P1", "warning": "P2"}


@dataclass
class AlertsConfig:
    """Which alert labels name the prompt, its version and the severity, and how severities map."""

    prompt_label: str = "prompt_id"
    version_label: str = "prompt_version"
    severity_label: str = "severity"
    severity_map: dict[str, str] = field(default_factory=_default_severity_map)
    default_severity: str = "P3"


@dataclass
class Config:
    user: str = ""
    theme: str = ""
    hooks: HookConfig = field(default_factory=HookConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    playbooks: dict[TriageCategory, list[str]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait for the database lock before naming its holder (None: the store's default).
    lock_timeout: float | None = None
    path: Path | None = None

    @property
    def author(self) -> str:
        # A browser tab of `incident-tui serve` is one responder: its ?user= arrives in the environment.
        return os.environ.get(USER_ENV) or self.user or default_user()


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "responder"


def default_config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return Path(user_config_dir("incident-tui")) / "config.toml"


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def load_config(path: Path | None = None, *, explicit: bool = False) -> Config:
    """Read the config file; a missing default file gives the defaults, a missing explicit one is an error."""
    path = path or default_config_path()
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None

    def fail(key: str, message: str) -> ConfigError:
        line = _line_of(text, key.rsplit(".", 1)[-1])
        where = f"line {line}, " if line else ""
        return ConfigError(f"{path}: {where}key '{key}': {message}")

    config = Config(path=path)
    known = {"user", "theme", "hooks", "playbooks", "keys", "alerts", "lock_timeout"}
    for key in data:
        if key not in known:
            raise fail(key, f"unknown key (known: {', '.join(sorted(known))})")
    for key in ("user", "theme"):
        if key in data:
            if not isinstance(data[key], str):
                raise fail(key, "must be a string")
            setattr(config, key, data[key])
    if "lock_timeout" in data:
        value = data["lock_timeout"]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 86400:
            raise fail("lock_timeout", "must be a number of seconds (0 to 86400)")
        config.lock_timeout = float(value)
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise fail("hooks", "must be a table")
    for key, value in hooks.items():
        if key in ("rollback", "kill_switch"):
            if isinstance(value, str):
                value = [value]
            if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                raise fail(f"hooks.{key}", "must be a command as a list of strings, e.g. [\"./rollback.sh\", \"--now\"]")
            setattr(config.hooks, key, value)
        elif key == "timeout":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise fail("hooks.timeout", "must be a positive number of seconds")
            config.hooks.timeout = float(value)
        else:
            raise fail(f"hooks.{key}", "unknown key (known: rollback, kill_switch, timeout)")
    playbooks = data.get("playbooks", {})
    if not isinstance(playbooks, dict):
        raise fail("playbooks", "must be a table")
    for key, value in playbooks.items():
        try:
            category = TriageCategory(key.replace("_", "-"))
        except ValueError:
            names = ", ".join(c.value for c in TriageCategory)
            raise fail(f"playbooks.{key}", f"unknown triage category (known: {names})") from None
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise fail(f"playbooks.{key}", "must be a list of strings")
        config.playbooks[category] = value
    _load_alerts(data.get("alerts", {}), config.alerts, fail)
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise fail("keys", "must be a table")
    for key, value in keys.items():
        if not isinstance(value, str) or not value:
            raise fail(f"keys.{key}", "must be a key name such as \"ctrl+n\" or \"n\"")
        config.keys[key] = value
    return config


def resolve_lock_timeout(config: Config) -> float | None:
    """The lock wait deadline: INCIDENT_TUI_LOCK_TIMEOUT, else the config's lock_timeout, else None (default)."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    if raw is None or not raw.strip():
        return config.lock_timeout
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:  # also refuses nan and inf
        raise ConfigError(f"{LOCK_TIMEOUT_ENV}: must be a number of seconds (0 to 86400), got {raw[:40]!r}")
    return value


def _load_alerts(alerts, target: AlertsConfig, fail) -> None:
    """The [alerts] table: label names, and [alerts.severity_map] of label value to P1/P2/P3."""
    if not isinstance(alerts, dict):
        raise fail("alerts", "must be a table")
    severities = ("P1", "P2", "P3")
    for key, value in alerts.items():
        if key in ("prompt_label", "version_label", "severity_label"):
            if not isinstance(value, str) or not value.strip():
                raise fail(f"alerts.{key}", "must be a label name such as \"prompt_id\"")
            setattr(target, key, value.strip())
        elif key == "default_severity":
            if not isinstance(value, str) or value.upper() not in severities:
                raise fail("alerts.default_severity", "must be P1, P2 or P3")
            target.default_severity = value.upper()
        elif key == "severity_map":
            if not isinstance(value, dict):
                raise fail("alerts.severity_map", "must be a table of label value = \"P1\" | \"P2\" | \"P3\"")
            mapping: dict[str, str] = {}
            for label_value, severity in value.items():
                if not isinstance(severity, str) or severity.upper() not in severities:
                    raise fail(f"alerts.severity_map.{label_value}", "must be P1, P2 or P3")
                mapping[label_value.lower()] = severity.upper()
            target.severity_map = mapping
        else:
            raise fail(
                f"alerts.{key}",
                "unknown key (known: prompt_label, version_label, severity_label, severity_map, default_severity)",
            )
