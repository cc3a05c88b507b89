"""The user's config file (TOML): hooks, playbook entries, user name, theme and key remaps.

Loaded once by the CLI and handed to the services and the app. A bad file raises ConfigError
with one line naming the file, the line and the key.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

# difflib, getpass, json, pathlib, shlex, shutil, tomllib and platformdirs are imported where they
# are used: a command run without a config file (an alert hook's `note`) does not pay for them.

from incident_tui.domain.errors import IncidentTuiError
from incident_tui.domain.models import TriageCategory

if TYPE_CHECKING:
    from pathlib import Path

APP_NAME = "incident-tui"
CONFIG_ENV = "INCIDENT_TUI_CONFIG"
LOCK_TIMEOUT_ENV = "INCIDENT_TUI_LOCK_TIMEOUT"
USER_ENV = "INCIDENT_TUI_USER"


class ConfigError(IncidentTuiError, ValueError):
    """One line: file, line, key, what is wrong."""


@dataclass
class HookConfig:
    """The [hooks] table: the commands containment and validation run, and their limits."""

    rollback: list[str] = field(default_factory=list)
    kill_switch: list[str] = field(default_factory=list)
    timeout: float = 60.0
    validate: list[str] = field(default_factory=list)  # runs a fix on the failure samples
    validate_min_pass: float = 0.9  # promotion asks first below this pass rate


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
    """The whole config file; every field has the default a missing file gives."""

    user: str = ""
    theme: str = ""
    hooks: HookConfig = field(default_factory=HookConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    playbooks: dict[TriageCategory, list[str]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait for the database lock before naming its holder (None: the store's default).
    lock_timeout: float | None = None
    path: Path | None = None
    # Problems that do not stop a start (a hook program missing on this machine): one line each.
    warnings: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict, repr=False)  # dotted key -> line in the file

    @property
    def author(self) -> str:
        # A browser tab of `incident-tui serve` is one responder: its ?user= arrives in the environment.
        return os.environ.get(USER_ENV) or self.user or default_user()

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError for ``key`` (dotted, e.g. "keys.note"): file, line, key, what is wrong."""
        return ConfigError(_where(self.path, self.lines, key) + message)

    def hook_problem(self, name: str) -> str | None:
        """Why the ``name`` hook ("rollback", "kill_switch") cannot run here, or None."""
        argv = getattr(self.hooks, name, None)
        return hook_program_problem(argv) if argv else None


def hook_program_problem(argv: list[str]) -> str | None:
    """Why ``argv[0]`` cannot be started (no shell: no ~, no PATH lookup of a path), or None."""
    program = argv[0]
    if program.startswith("~"):
        return f"{program} starts with ~, which only a shell expands: write the full path"
    if "/" not in program:
        import shutil

        return None if shutil.which(program) else f"{program} is not on PATH"
    from pathlib import Path

    target = Path(program)
    if not target.exists():
        return f"{program} does not exist"
    if target.is_dir() or not os.access(target, os.X_OK):
        return f"{program} is not an executable file"
    return None


def did_you_mean(name: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def default_user() -> str:
    # getpass.getuser()'s own lookup, so that a login name in the environment (the usual case)
    # does not import getpass and termios; without one, getpass asks the password database.
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        user = os.environ.get(name)
        if user:
            return user
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "responder"


def default_config_path() -> Path:
    from pathlib import Path

    return Path(default_config_file())


def default_config_file() -> str:
    """:func:`default_config_path` as a string, worked out without pathlib."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return override
    return os.path.join(user_dir_name("config"), "config.toml")


# The XDG base directories platformdirs gives on Linux: (variable, default under the home directory).
_XDG_DIRS = {"config": ("XDG_CONFIG_HOME", "~/.config"), "data": ("XDG_DATA_HOME", "~/.local/share")}


def user_dir(kind: str) -> Path:
    """platformdirs' ``user_<kind>_dir("incident-tui")`` ("config" or "data").

    On Linux the plain XDG case (an absolute $XDG_… or an absolute $HOME) is worked out here:
    importing platformdirs costs a short command such as `note` several ms. Every other case
    (another OS, Android, a relative $XDG_… or $HOME) asks platformdirs itself.
    """
    from pathlib import Path

    return Path(user_dir_name(kind))


def user_dir_name(kind: str) -> str:
    """:func:`user_dir` as a string: a command that only hands the path on does not import pathlib."""
    fast = _linux_xdg_dir(kind)
    if fast is not None:
        return fast
    import platformdirs

    return str(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME))


def _linux_xdg_dir(kind: str) -> str | None:
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel") or "ANDROID_DATA" in os.environ:
        return None
    variable, default = _XDG_DIRS[kind]
    base = os.environ.get(variable, "")
    if not os.path.isabs(base):
        if base.strip() or not os.path.isabs(os.environ.get("HOME", "")):
            return None  # platformdirs versions differ on a relative $XDG_…; a missing $HOME asks pwd
        base = os.path.expanduser(default)
    return os.path.join(base, APP_NAME)


_HEADER = r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$"
_KEY = r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="""


@cache
def _line_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The table-header and key patterns, compiled when a config file is read (most runs have none)."""
    return re.compile(_HEADER), re.compile(_KEY)


def _dotted(raw: str) -> str:
    parts = re.findall(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_\-]+)""", raw)
    return ".".join(next(p for p in part if p) if any(part) else "" for part in parts)


def _key_lines(text: str) -> dict[str, int]:
    """Dotted key (and table) -> the line it is on: enough TOML to point at a mistake."""
    header_re, key_re = _line_patterns()
    lines: dict[str, int] = {}
    table = ""
    in_multiline = None
    for number, line in enumerate(text.splitlines(), 1):
        if in_multiline:
            if in_multiline in line:
                in_multiline = None
            continue
        header = header_re.match(line)
        if header:
            table = _dotted(header.group(1))
            lines.setdefault(table, number)
            continue
        key = key_re.match(line)
        if key:
            dotted = f"{table}.{_dotted(key.group(1))}" if table else _dotted(key.group(1))
            lines.setdefault(dotted, number)
            rest = line[key.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
    return lines


def _where(path: Path | None, lines: dict[str, int], key: str) -> str:
    line = lines.get(key)
    probe = key
    while line is None and "." in probe:  # a key inside an inline table: point at its table
        probe = probe.rsplit(".", 1)[0]
        line = lines.get(probe)
    where = f"line {line}, " if line else ""
    return f"{path}: {where}key '{key}': "


TOP_LEVEL = ("user", "theme", "hooks", "playbooks", "keys", "alerts", "lock_timeout")
HOOK_KEYS = ("rollback", "kill_switch", "validate", "timeout", "validate_min_pass")


def load_config(path: Path | None = None, *, explicit: bool = False) -> Config:
    """Read the config file; a missing default file gives the defaults, a missing explicit one is an error."""
    if path is None:
        found = default_config_file()
        try:
            os.stat(found)
        except (FileNotFoundError, NotADirectoryError):
            return Config()  # the usual case, decided without importing pathlib
        except (OSError, ValueError):
            pass  # anything else: Path.exists() below decides, as it always has
        from pathlib import Path

        path = Path(found)
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None

    config = Config(path=path, lines=_key_lines(text))
    fail = config.error

    for key in data:
        if key not in TOP_LEVEL:
            raise fail(key, f"unknown key; {did_you_mean(key, TOP_LEVEL)}known: {', '.join(TOP_LEVEL)}")
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
        raise fail("hooks", "must be a table: [hooks]")
    for key, value in hooks.items():
        if key in ("rollback", "kill_switch", "validate"):
            setattr(config.hooks, key, _hook_command(key, value, fail))
        elif key == "validate_min_pass":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise fail("hooks.validate_min_pass", f"must be a pass rate from 0 to 1, e.g. 0.9 (got {value!r})")
            config.hooks.validate_min_pass = float(value)
        elif key == "timeout":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise fail("hooks.timeout", f"must be a positive number of seconds, e.g. timeout = 60 (got {value!r})")
            config.hooks.timeout = float(value)
        else:
            raise fail(f"hooks.{key}", f"unknown key; {did_you_mean(key, HOOK_KEYS)}known: {', '.join(HOOK_KEYS)}")
    for key in ("rollback", "kill_switch", "validate"):
        argv = getattr(config.hooks, key)
        problem = hook_program_problem(argv) if argv else None
        if problem:
            config.warnings.append(
                _where(path, config.lines, f"hooks.{key}") + f"{problem}; the {key.replace('_', ' ')} hook will fail"
            )
    playbooks = data.get("playbooks", {})
    if not isinstance(playbooks, dict):
        raise fail("playbooks", "must be a table: [playbooks]")
    names = [c.value for c in TriageCategory]
    for key, value in playbooks.items():
        try:
            category = TriageCategory(key.replace("_", "-"))
        except ValueError:
            raise fail(
                f"playbooks.{key}", f"unknown triage category; {did_you_mean(key, names)}known: {', '.join(names)}"
            ) from None
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise fail(f"playbooks.{key}", f'must be a list of steps, e.g. {key} = ["Page #prompt-owners"]')
        config.playbooks[category] = value
    _load_alerts(data.get("alerts", {}), config.alerts, fail)
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise fail("keys", "must be a table: [keys]")
    for key, value in keys.items():
        _key_value(config, key, value, fail)
    return config


def _key_value(config: Config, key: str, value, fail) -> None:
    if isinstance(value, dict):  # [keys] diff.wrap = "x" is, in TOML, the table diff with a key wrap
        for sub, sub_value in value.items():
            _key_value(config, f"{key}.{sub}", sub_value, fail)
        return
    if not isinstance(value, str) or not value.strip():
        raise fail(f"keys.{key}", 'must be a key name such as "ctrl+n" or "n"')
    config.keys[key] = value.strip()


def _hook_command(key: str, value, fail) -> list[str]:
    """A hook is the list of its words: run without a shell, so one string cannot carry arguments."""
    if isinstance(value, str):
        import json
        import shlex

        try:
            words = shlex.split(value)
        except ValueError:
            words = value.split()
        example = json.dumps(words or ["/path/to/hook.sh"], ensure_ascii=False)
        raise fail(
            f"hooks.{key}",
            f"a command is a list of its words (it runs without a shell), write: {key} = {example}",
        )
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value) and value[0].strip()):
        raise fail(f"hooks.{key}", f'must be a command as a list of strings, e.g. {key} = ["/opt/ops/{key}.sh", "--now"]')
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
            known = ("prompt_label", "version_label", "severity_label", "severity_map", "default_severity")
            raise fail(f"alerts.{key}", f"unknown key; {did_you_mean(key, known)}known: {', '.join(known)}")


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

