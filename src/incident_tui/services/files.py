"""Writing a document where the user said, without ever replacing what is not a regular file.

- a regular file (new, or existing with ``replace=True``) is written atomically: a temporary
  file beside it, fsynced, then linked (new) or renamed (replace) into place, so a reader never
  sees half a document. A new file is created 0600, like the database; a replaced one keeps its
  mode; a symlink to a file is followed (the link stays a link).
- a character device or a FIFO (``/dev/null``, a terminal, ``mkfifo``) is opened and written as
  it is: it stays what it was. ``/dev/stdout``, ``/dev/stderr`` and ``/dev/fd/N`` mean this
  process's own stream, wherever it points.
- anything else (a directory, a block device, a socket) is refused.

Every error names the path as the caller gave it, never the temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from incident_tui.services.incidents import ServiceError

_STREAM_RE = re.compile(r"^/(?:dev/(?:fd/(\d+)|(stdout)|(stderr))|proc/self/fd/(\d+))$")


class OutputError(ServiceError):
    """A document could not be written; the message names the path as given."""


class OutputExists(OutputError):
    """The path is an existing regular file and replacing it was not asked for."""


def write_output(path: str | os.PathLike[str], text: str, *, replace: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` as described in the module; returns ``path``."""
    shown = os.fspath(path)
    data = text.encode("utf-8", "replace")
    fd = _stream_fd(shown)
    if fd is not None:
        _write_fd(fd, data, shown)
        return Path(shown)
    try:
        st = os.stat(shown)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _error(shown, exc) from None
    if st is None:
        _write_new(shown, data)
    elif stat.S_ISREG(st.st_mode):
        if not replace:
            raise OutputExists(f"{shown} exists; nothing was written")
        _replace(shown, data, st.st_mode)
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        _write_special(shown, data)
    elif stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{shown} is a directory; give a file name")
    else:
        raise OutputError(f"{shown} is not a regular file, a character device or a FIFO; nothing was written")
    return Path(shown)


def _stream_fd(path: str) -> int | None:
    match = _STREAM_RE.match(path)
    if match is None:
        return None
    fd_a, out, err, fd_b = match.groups()
    return 1 if out else 2 if err else int(fd_a or fd_b)


def _error(shown: str, exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    parent = os.path.dirname(shown) or "."
    if isinstance(exc, FileNotFoundError) and not os.path.isdir(parent):
        reason = f"directory {parent} does not exist"
    return OutputError(f"cannot write {shown}: {reason}")


def _write_fd(fd: int, data: bytes, shown: str) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise _error(shown, exc) from None


def _write_special(shown: str, data: bytes) -> None:
    # No O_CREAT, no O_TRUNC: a device or FIFO is written into, never made or replaced. A FIFO
    # waits here for its reader, as a shell redirection does.
    try:
        fd = os.open(shown, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise _error(shown, exc) from None
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):  # swapped since we looked
            raise OutputError(f"{shown} changed while it was being opened; nothing was written")
        _write_fd(fd, data, shown)
    finally:
        os.close(fd)


def _temp_beside(target: str, shown: str, data: bytes, mode: int) -> str:
    directory = os.path.dirname(target) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _error(shown, exc) from None
    try:
        os.fchmod(fd, mode)
        _write_fd(fd, data, shown)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    return tmp


def _sync_directory(path: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_new(shown: str, data: bytes) -> None:
    target = shown
    if os.path.islink(shown):  # a dangling symlink: create its target, keep the link
        target = os.path.realpath(shown)
    tmp = _temp_beside(target, shown, data, 0o600)
    try:
        # link() refuses an existing name: a file that appeared since the check is not replaced.
        os.link(tmp, target)
    except FileExistsError:
        raise OutputExists(f"{shown} exists; nothing was written") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise _error(shown, exc) from None
        # A file system without hard links: O_EXCL keeps the no-replace promise, then rename.
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
            os.replace(tmp, target)
        except FileExistsError:
            raise OutputExists(f"{shown} exists; nothing was written") from None
        except OSError as exc2:
            raise _error(shown, exc2) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _sync_directory(target)


def _replace(shown: str, data: bytes, mode: int) -> None:
    target = os.path.realpath(shown)  # through a symlink: the link stays, its file is replaced
    tmp = _temp_beside(target, shown, data, stat.S_IMODE(mode))
    try:
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _error(shown, exc) from None
    _sync_directory(target)
