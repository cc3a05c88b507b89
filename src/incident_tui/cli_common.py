"""What every command module shares: the context object, one-line errors, JSON output.

No textual import here or in any command module: scripts and alert hooks start quickly.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from incident_tui.config import Config, ConfigError, load_config

DB_ENV = "INCIDENT_TUI_DB"


def default_db_path() -> Path:
    override = os.environ.get(DB_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("incident-tui")) / "incidents.json"


class CliContext:
    """What every subcommand needs: the db path, the config, and lazily the db and services."""

    def __init__(self, db_path: Path | None, config_path: Path | None) -> None:
        self.db_path = db_path or default_db_path()
        self.config_path = config_path
        self._config: Config | None = None
        self._db = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, explicit=self.config_path is not None)
        return self._config

    def open_db(self):
        if self._db is None:
            from incident_tui.config import resolve_lock_timeout
            from incident_tui.store.storage import open_db

            # What another process's "database is locked by pid N (…)" calls this one.
            ctx = click.get_current_context(silent=True)
            self._db = open_db(self.db_path, lock_timeout=resolve_lock_timeout(self.config),
                               holder_name=ctx.command_path if ctx is not None else None)
        return self._db

    def incidents(self):
        from incident_tui.services.incidents import IncidentService

        return IncidentService(self.open_db(), config=self.config)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def echo(text: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo for text that may carry outside text: controls and bidi shown, not applied."""
    from incident_tui.domain.text import neutralise

    click.echo(neutralise(str(text)), err=err, nl=nl)


def warn(message: str) -> None:
    """One line on stderr; outside text in it is shown visibly."""
    from incident_tui.domain.text import visible

    click.echo(f"incident-tui: warning: {visible(message)}", err=True)


def fail(message: str, code: int = 1) -> None:
    # Error messages quote paths, ids and payload fields: one visible line, whatever they hold.
    from incident_tui.domain.text import visible

    click.echo(f"incident-tui: error: {visible(message)}", err=True)
    sys.exit(code)


def handle_errors(func):
    """Turn every expected error into one line on stderr and exit 1; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from incident_tui.domain.lifecycle import LifecycleError
        from incident_tui.domain.prompts import PromptError
        from incident_tui.domain.times import TimeParseError
        from incident_tui.services.incidents import ServiceError
        from incident_tui.store.storage import StoreError

        try:
            return func(*args, **kwargs)
        except (ConfigError, StoreError, ServiceError, LifecycleError, PromptError, TimeParseError, LookupError) as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            fail(message.strip("'\"") if isinstance(exc, KeyError) else message)
        except BrokenPipeError:
            # `… | head` closed the pipe: not an error worth a line. Point stdout at devnull
            # so the interpreter's final flush does not complain either.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:
            fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")
        except Exception as exc:  # a bug: still one line for the responder, the traceback on request
            if os.environ.get("INCIDENT_TUI_DEBUG"):
                raise
            fail(f"unexpected {type(exc).__name__}: {exc} (set INCIDENT_TUI_DEBUG=1 for the traceback)")

    return wrapper


def parse_time_option(value: str | None) -> datetime | None:
    if value is None:
        return None
    from incident_tui.domain.times import local_now, parse_when

    return parse_when(value, local_now())


def echo_json(data: Any) -> None:
    from incident_tui.domain.text import json_safe

    # The encoder escapes C0; json_safe escapes C1, bidi controls and lone surrogates too.
    click.echo(json_safe(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


def incident_json(incident) -> dict[str, Any]:
    from incident_tui.domain.times import format_duration

    data = incident.to_dict()
    data["derived"] = {
        "started_at": incident.started_at.isoformat(),
        "duration_s": _secs(incident.duration),
        "detection_gap_s": _secs(incident.detection_gap),
        "time_to_contain_s": _secs(incident.time_to_contain),
        "time_to_resolve_s": _secs(incident.time_to_resolve),
        "duration": format_duration(incident.duration) if incident.duration else None,
    }
    return data


def _secs(delta) -> float | None:
    return delta.total_seconds() if delta is not None else None
