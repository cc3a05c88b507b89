"""What every command module shares: the context object, one-line errors, JSON output.

No textual import here or in any command module: scripts and alert hooks start quickly.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import click

from incident_tui.config import Config, load_config, user_dir_name
from incident_tui.domain.errors import IncidentTuiError

if TYPE_CHECKING:
    from pathlib import Path

DB_ENV = "INCIDENT_TUI_DB"


def choice(values: type[Enum] | Iterable[str], *, case_sensitive: bool = True) -> click.Choice:
    """A click choice of a domain enum's values (or of a domain tuple), in their order: the words a
    command accepts are the ones the services and the dashboard use."""
    words = [member.value for member in values] if isinstance(values, type) else list(values)
    return click.Choice(words, case_sensitive=case_sensitive)


def default_db_path() -> Path:
    from pathlib import Path

    return Path(default_db_file())


def default_db_file() -> str:
    """:func:`default_db_path` as a string, worked out without pathlib."""
    override = os.environ.get(DB_ENV)
    if override:
        return override
    return os.path.join(user_dir_name("data"), "incidents.json")


def path_text(name: str) -> str:
    """``str(pathlib.Path(name))`` on POSIX, without importing pathlib: runs of slashes and "."
    parts go, a trailing slash goes, a leading "//" stays. What the store quotes in its errors
    is the text the user would have seen from a Path."""
    relative = name.lstrip("/")
    slashes = len(name) - len(relative)
    root = "//" if slashes == 2 else "/" if slashes else ""
    return root + "/".join(part for part in relative.split("/") if part and part != ".") or "."


class CliContext:
    """What every subcommand needs: the db path, the config, and lazily the db and services.

    The paths arrive as strings; :attr:`db_path` and :attr:`config_path` make them Paths on first
    use, so that `note` or `list`, which only hand the file name to the store, never import pathlib.
    """

    def __init__(self, db_path: str | os.PathLike[str] | None, config_path: str | os.PathLike[str] | None) -> None:
        self._db_file = ""
        self._db_path: Path | None = None
        self.db_path = db_path if db_path is not None else default_db_file()
        self._config_file = os.fspath(config_path) if config_path is not None else None
        self._config: Config | None = None
        self._db = None
        self._stores = None

    @property
    def db_path(self) -> Path:
        if self._db_path is None:
            from pathlib import Path

            self._db_path = Path(self._db_file)
        return self._db_path

    @db_path.setter
    def db_path(self, value: str | os.PathLike[str]) -> None:
        self._db_file = path_text(os.fspath(value))
        self._db_path = None  # made from the text on first use: equal to the Path given, if one was

    @property
    def config_path(self) -> Path | None:
        if self._config_file is None:
            return None
        from pathlib import Path

        return Path(self._config_file)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, explicit=self._config_file is not None)
            for message in self._config.warnings:
                warn(message)
        return self._config

    def open_db(self):
        if self._db is None:
            from incident_tui.config import resolve_lock_timeout
            from incident_tui.store.storage import open_db

            # What another process's "database is locked by pid N (…)" calls this one.
            ctx = click.get_current_context(silent=True)
            self._db = open_db(self._db_file, lock_timeout=resolve_lock_timeout(self.config),
                               holder_name=ctx.command_path if ctx is not None else None)
        return self._db

    def stores(self):
        """The repositories of the database (opened on first use), shared by this command's services."""
        if self._stores is None or self._stores.db is not self.open_db():
            from incident_tui.store.stores import Stores

            self._stores = Stores(self.open_db())
        return self._stores

    def incidents(self):
        from incident_tui.services.incidents import IncidentService

        return IncidentService(self.stores(), config=self.config)

    def close(self) -> None:
        if self._db is not None:
            refused = getattr(self._db.storage, "compaction_warning", lambda: None)()
            if refused:  # a write found the snapshot damaged: said on every command until it is fixed
                warn(refused)
            self._db.close()
            self._db = None
            self._stores = None


def echo(text: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo for text that may carry outside text: controls and bidi shown, not applied."""
    from incident_tui.domain.text import neutralise

    click.echo(neutralise(str(text)), err=err, nl=nl)


def fail(message: str, code: int = 1) -> None:
    # Error messages quote paths, ids and payload fields: one visible line, whatever they hold.
    from incident_tui.domain.text import visible

    click.echo(f"incident-tui: error: {visible(readable(message))}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    from incident_tui.domain.text import visible

    click.echo(f"incident-tui: warning: {visible(readable(message))}", err=True)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def readable(text: str) -> str:
    """``text`` with bytes that were not UTF-8 (lone surrogates from the command line) as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class DecodedText(click.types.StringParamType):
    """A text argument or option: bytes that are not UTF-8 become U+FFFD, said in one warning line.

    Python hands such bytes over as lone surrogates, which no store or terminal can encode (a
    declare used to end in "unexpected TypeError"). Paths keep their bytes: they name a file.
    """

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            fixed = readable(value)
            shown = fixed if len(fixed) <= 60 else fixed[:59] + "…"
            name = (param.opts[0] if param.opts and param.opts[0].startswith("-") else param.human_readable_name) \
                if param is not None else "an argument"
            warn(f"{name} is not valid UTF-8: undecodable bytes replaced with U+FFFD ({shown!r})")
            value = fixed
        return value


DECODED_TEXT = DecodedText()


def decode_text_params(command: click.Command) -> None:
    """Every plain text parameter of ``command`` and its subcommands decodes as DecodedText."""
    for param in command.params:
        if type(param.type) is click.types.StringParamType:
            param.type = DECODED_TEXT
    for sub in getattr(command, "commands", {}).values():
        decode_text_params(sub)


class OneLineGroup(click.Group):
    """The top-level group: every usage error is one line on stderr (exit 2), as the contract says.

    click's own report is three lines (usage, hint, error); scripts and alert hooks read one.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        decode_text_params(self)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            path = exc.ctx.command_path if exc.ctx is not None else (prog_name or "incident-tui")
            message = exc.format_message()
            command = exc.ctx.command if exc.ctx is not None else None
            if isinstance(command, click.Group) and message.lstrip().startswith("Usage:"):
                # A group run without its command: click's "error" is the whole help text.
                message = f"missing command: one of {', '.join(command.list_commands(exc.ctx))}"
            fail(f"{one_line(message)} (see '{path} --help')", code=exc.exit_code)
        except click.ClickException as exc:
            fail(one_line(exc.format_message()), code=exc.exit_code)
        except click.Abort:
            fail("aborted", code=1)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except BrokenPipeError:  # `incident-tui --help | head -1`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        sys.exit(code if isinstance(code, int) else 0)  # click returns ctx.exit()'s code here


# A relative time ("-5m", "-90s", "-1h30m") or any dash-then-digit token is text, never an option.
_TEXT_WITH_DASH = re.compile(r"-\d")


class TextCommand(click.Command):
    """A command whose last argument is free text: unknown options are errors, `--` ends options.

    A token starting with a dash and a digit ("-5m CS escalations…", the note backdate) is text,
    so the README's `note INC "-5m …"` keeps working; any other dash token must be a known option
    or come after `--`. click's own ``ignore_unknown_options`` would save "--sta x" as the note,
    and read "-2h ago" as -2 -h (help).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (param.is_flag or param.count)
        options: list[str] = []
        positional: list[str] = []
        rest = list(args)
        while rest:
            token = rest.pop(0)
            if token == "--":
                positional.extend(rest)
                break
            name = token.split("=", 1)[0]
            if token.startswith("-") and len(token) > 1 and not _TEXT_WITH_DASH.match(token):
                if name not in takes_value:
                    from difflib import get_close_matches

                    close = get_close_matches(name, [n for n in takes_value if n.startswith("--")], n=1)
                    hint = f", did you mean {close[0]}?" if close else ";"
                    raise click.NoSuchOption(
                        name, message=f"no such option: {name}{hint} text that starts with a dash goes after --",
                        ctx=ctx,
                    )
                options.append(token)
                if takes_value[name] and "=" not in token and rest:
                    options.append(rest.pop(0))  # the option's value, whatever it looks like ("--at -5m")
                continue
            positional.append(token)
        return super().parse_args(ctx, [*options, "--", *positional])


def handle_errors(func):
    """Turn every expected error into one line on stderr and exit 1; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            # `… | head` closed the pipe: not an error worth a line. Point stdout at devnull
            # so the interpreter's final flush does not complain either.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:
            if isinstance(exc, _expected_errors()):
                # str(KeyError("x")) is "'x'", quotes included: take the message itself.
                text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
                message = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
                fail(message)
            elif isinstance(exc, OSError):
                fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")
            else:  # a bug: still one line for the responder, the traceback on request
                if os.environ.get("INCIDENT_TUI_DEBUG"):
                    raise
                fail(f"unexpected {type(exc).__name__}: {exc} (set INCIDENT_TUI_DEBUG=1 for the traceback)")

    return wrapper


def _expected_errors() -> tuple[type[BaseException], ...]:
    # Every error the product raises on purpose is an IncidentTuiError. LookupError stays on the
    # list deliberately: a KeyError naming what was asked for (an unknown postmortem section, a
    # field) is an answer about the user's input, and its message is the missing key.
    return (IncidentTuiError, LookupError)


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
