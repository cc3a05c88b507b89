"""The prompt registry: import versions (git, a directory, one file), move labels, diff.

Versions and label moves are stored by the prompt repository (store/prompts.py).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

# pathlib and csv are imported by the importers that read files: `declare` asks this service for
# the production version and does not pay for them.

from incident_tui.domain.prompts import (
    PRODUCTION,
    UNASSIGNED,
    LabelMove,
    PromptError,
    PromptSummary,
    PromptVersion,
    is_new_text,
    labels_at,
    natural_key,
    next_version_number,
    text_sha256,
    validate_label,
)
from incident_tui.domain.prompts import last_known_good as _last_known_good
from incident_tui.domain.prompts import version_live_at as _version_live_at
from incident_tui.store.stores import Database, Stores

if TYPE_CHECKING:  # the diff engine and subprocess load when a diff or a git import runs
    from pathlib import Path

    from incident_tui.domain.diff import DiffResult

# A directory may describe its files in this manifest (version, commit, authored,
# subject, file), as tests/data/openhands-codeact does; it then decides order and dates.
MANIFEST = "versions.tsv"
_GIT_TIMEOUT_S = 60


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _aware(when: datetime) -> datetime:
    # A naive time is read as local time, like everywhere else in the app.
    return when if when.tzinfo is not None else when.astimezone()


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PromptError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _decode(data, str(path))


def _decode(data: bytes, where: str) -> str:
    try:
        # Bytes as they are: no newline translation, so CRLF prompts stay CRLF.
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PromptError(f"{where} is not UTF-8 text") from None


class PromptService:
    """What a responder does with prompt versions; the CLI and the TUI both call it."""

    def __init__(self, stores: Stores | Database, clock: Callable[[], datetime] | None = None) -> None:
        self.stores = Stores.of(stores)
        self.db = self.stores.db
        self.repo = self.stores.prompts
        self.clock = clock or _local_now

    # --- reading -----------------------------------------------------------------------

    def _moves(self, prompt_id: str) -> list[LabelMove]:
        return self.repo.moves(prompt_id)

    def versions(self, prompt_id: str) -> list[PromptVersion]:
        """Every version of `prompt_id`, oldest first ([] for an unknown prompt)."""
        return self.repo.versions(prompt_id)

    def registry(self) -> dict[str, set[int]]:
        """Every registered prompt id with its version numbers (texts are not read)."""
        return self.repo.registry()

    def list_prompts(self) -> list[PromptSummary]:
        """One summary per prompt id, sorted by id."""
        by_prompt: dict[str, list[PromptVersion]] = {}
        for version in self.repo.all_versions():
            by_prompt.setdefault(version.prompt_id, []).append(version)
        out = []
        for prompt_id in sorted(by_prompt, key=natural_key):
            versions = by_prompt[prompt_id]
            latest = max(versions, key=lambda v: v.version)
            out.append(
                PromptSummary(prompt_id, len(versions), latest.version, latest.created_at, self.labels(prompt_id))
            )
        return out

    def get(self, prompt_id: str, version: int) -> PromptVersion:
        """One version; UnknownPrompt / UnknownVersion (PromptError) if it is not registered."""
        return self.repo.get(prompt_id, version)

    def latest(self, prompt_id: str) -> PromptVersion | None:
        versions = self.versions(prompt_id)
        return versions[-1] if versions else None

    def labels(self, prompt_id: str) -> dict[str, int]:
        """Where each label points now."""
        return labels_at(self._moves(prompt_id))

    def label_version(self, prompt_id: str, label: str) -> int | None:
        """The version `label` points at now, or None."""
        return self.labels(prompt_id).get(validate_label(label))

    def production_version(self, prompt_id: str) -> int | None:
        """The version serving production now (the production label), or None."""
        return self.label_version(prompt_id, PRODUCTION)

    def label_history(self, prompt_id: str, label: str | None = None) -> list[LabelMove]:
        """Every label move of `prompt_id` (or of one label), oldest first."""
        moves = self._moves(prompt_id)
        if label is not None:
            validate_label(label)
            moves = [m for m in moves if m.label == label]
        return moves

    def version_live_at(self, prompt_id: str, when: datetime) -> int | None:
        """The version serving production at `when` (see domain.prompts.version_live_at)."""
        return _version_live_at(self.versions(prompt_id), self._moves(prompt_id), _aware(when))

    def last_known_good(self, prompt_id: str, failing_version: int) -> int | None:
        """The last good version before `failing_version` (see domain.prompts.last_known_good)."""
        return _last_known_good(self.versions(prompt_id), self._moves(prompt_id), failing_version)

    def diff(self, prompt_id: str, old_version: int, new_version: int, *, ignore_whitespace: bool = False) -> DiffResult:
        """Aligned diff of two versions."""
        old = self.get(prompt_id, old_version).text
        new = self.get(prompt_id, new_version).text
        from incident_tui.domain.diff import diff_texts

        return diff_texts(old, new, ignore_whitespace=ignore_whitespace)

    def unified(self, prompt_id: str, old_version: int, new_version: int, context: int = 3) -> str:
        """Unified diff of two versions that `patch` applies to the old text."""
        old = self.get(prompt_id, old_version).text
        new = self.get(prompt_id, new_version).text
        from incident_tui.domain.diff import unified_diff

        return unified_diff(old, new, f"{prompt_id}@v{old_version}", f"{prompt_id}@v{new_version}", context)

    # --- writing -----------------------------------------------------------------------

    def _register(self, prompt_id: str, candidates: list[dict[str, Any]]) -> list[PromptVersion]:
        """Append the candidates whose text is new; all in one transaction.

        A candidate is {"text", "created_at", "source", …, "key"} in the source's order;
        "key" identifies what was imported (a commit, a file name with its hash) so
        re-imports skip it.
        """
        prompt_id = prompt_id.strip()
        if not prompt_id:
            raise PromptError("a prompt id is required")
        if prompt_id == UNASSIGNED:
            raise PromptError(f"{UNASSIGNED} marks an incident without a prompt; it cannot be registered")
        added: list[PromptVersion] = []
        with self.repo.transaction():
            versions = self.versions(prompt_id)
            seen = {self._key_of(v) for v in versions}
            previous_sha = None
            for cand in candidates:
                key = cand.pop("key", None)
                sha = text_sha256(cand["text"])
                # A source entry equal to the one before it (a rename-only commit, a copied
                # file) is no change; deciding that within the source, not against the
                # registry's latest, keeps a re-import from registering it later.
                repeat = sha == previous_sha
                previous_sha = sha
                if repeat or (key is not None and key in seen):
                    continue
                if not is_new_text(versions, cand["text"]):
                    continue
                version = PromptVersion(
                    prompt_id=prompt_id,
                    version=next_version_number(versions),
                    sha256=sha,
                    **cand,
                )
                versions.append(version)
                if key is not None:
                    seen.add(key)
                added.append(version)
            self.repo.add_versions(added)
        return added

    @staticmethod
    def _key_of(version: PromptVersion) -> tuple[str, str] | None:
        if version.commit:
            return ("git", version.commit)
        if version.source_name:
            return ("file", f"{version.source_name}\0{version.sha256}")
        return None

    def add(
        self, prompt_id: str, path_or_text: str | os.PathLike[str], author: str | None = None, note: str | None = None
    ) -> PromptVersion | None:
        """Register a new version from a file (a path object) or a text (a str).

        Returns the new version, or None when the text equals the latest version's.
        """
        now = self.clock()
        if isinstance(path_or_text, os.PathLike):
            from pathlib import Path

            path = Path(path_or_text)
            text = _read_text(path)
            source = f"file:{path}"
        else:
            text = path_or_text
            source = "text"
        added = self._register(
            prompt_id,
            [{"text": text, "created_at": _aware(now), "source": source, "author": author, "note": note}],
        )
        return added[0] if added else None

    def add_texts(
        self, prompt_id: str, texts: list[str], author: str | None = None, note: str | None = None
    ) -> list[PromptVersion]:
        """Register several texts as consecutive versions in one transaction (seeding, scripts).

        A text equal to the one before it is skipped, as in an import.
        """
        now = _aware(self.clock())
        return self._register(
            prompt_id,
            [{"text": t, "created_at": now, "source": "text", "author": author, "note": note} for t in texts],
        )

    def import_dir(self, directory: str | os.PathLike[str], prompt_id: str, pattern: str | None = None) -> list[PromptVersion]:
        """Register the files of a directory as versions, in natural sort order.

        Files are those matching `pattern` (a glob); without one, a `versions.tsv` manifest
        if present, else the files sharing the directory's most common suffix. Returns the
        versions added (re-importing adds only files not imported before).
        """
        from pathlib import Path

        root = Path(directory)
        if not root.is_dir():
            raise PromptError(f"{root} is not a directory")
        manifest = root / MANIFEST
        if pattern is None and manifest.is_file():
            candidates = self._manifest_candidates(root, manifest)
        else:
            candidates = [self._file_candidate(p) for p in self._pick_files(root, pattern)]
        if not candidates:
            raise PromptError(f"no prompt files found in {root}")
        return self._register(prompt_id, candidates)

    @staticmethod
    def _pick_files(root: Path, pattern: str | None) -> list[Path]:
        files = [p for p in (root.glob(pattern) if pattern else root.iterdir()) if p.is_file()]
        files = [p for p in files if not p.name.startswith(".")]
        if pattern is None and files:
            # README, LICENSE and manifests sit beside prompt files; the prompts are the
            # family sharing a suffix.
            suffixes = Counter(p.suffix for p in files if p.suffix)
            if suffixes:
                common = suffixes.most_common(1)[0][0]
                files = [p for p in files if p.suffix == common]
        return sorted(files, key=lambda p: natural_key(p.name))

    @staticmethod
    def _file_candidate(path: Path, **meta: Any) -> dict[str, Any]:
        text = _read_text(path)
        created = meta.pop("created_at", None) or datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        return {
            "text": text,
            "created_at": created,
            "source": f"file:{path}",
            "source_name": path.name,
            "key": ("file", f"{path.name}\0{text_sha256(text)}"),
            **meta,
        }

    def _manifest_candidates(self, root: Path, manifest: Path) -> list[dict[str, Any]]:
        import csv

        with manifest.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if not rows or "file" not in rows[0]:
            raise PromptError(f"{manifest} has no 'file' column")
        out = []
        for row in sorted(rows, key=lambda r: natural_key(r.get("version") or r["file"])):
            path = root / row["file"]
            created = None
            if row.get("authored"):
                try:
                    created = _aware(datetime.fromisoformat(row["authored"]))
                except ValueError:
                    raise PromptError(f"{manifest}: bad date {row['authored']!r}") from None
            meta: dict[str, Any] = {"created_at": created, "note": row.get("subject") or None}
            candidate = self._file_candidate(path, **meta)
            if row.get("commit"):
                candidate["commit"] = row["commit"]
                candidate["key"] = ("git", row["commit"])
            out.append(candidate)
        return out

    def import_git(self, repo: str | os.PathLike[str], file: str | os.PathLike[str], prompt_id: str) -> list[PromptVersion]:
        """Register each commit that changed `file` in `repo`, oldest first, following renames.

        Commit hash, author date and author are kept; a commit's subject becomes the note.
        Returns the versions added (re-importing adds only new commits).
        """
        from pathlib import Path

        repo_path = Path(repo)
        if not repo_path.is_dir():
            raise PromptError(f"{repo_path} is not a directory")
        file_arg = Path(file)
        # FILE is relative to the repo; a path that only makes sense from here (absolute,
        # or ../repo/prompt.j2) is turned into one.
        if file_arg.is_absolute() or (not (repo_path / file_arg).exists() and file_arg.exists()):
            try:
                file_arg = file_arg.resolve().relative_to(repo_path.resolve())
            except ValueError:
                raise PromptError(f"{file} is not inside {repo_path}") from None
        commits = self._git_log(repo_path, str(file_arg))
        if not commits:
            raise PromptError(f"no commit in {repo_path} changed {file_arg}")
        # Every commit's text, known ones included: _register needs the sequence to tell
        # a real change from a rename-only commit.
        texts = self._git_blobs(repo_path, [(c["commit"], c["path"]) for c in commits])
        candidates = []
        for commit, text in zip(commits, texts):
            candidates.append(
                {
                    "text": text,
                    "created_at": commit["date"],
                    "source": f"git:{commit['commit']}:{commit['path']}",
                    "author": commit["author"],
                    "note": commit["subject"],
                    "commit": commit["commit"],
                    "source_name": commit["path"],
                    "key": ("git", commit["commit"]),
                }
            )
        return self._register(prompt_id, candidates)

    @staticmethod
    def _git(repo: Path, args: list[str], stdin: bytes | None = None) -> bytes:
        import subprocess

        cmd = ["git", "-C", str(repo), "-c", "core.quotepath=off", "--no-pager", *args]
        try:
            proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=_GIT_TIMEOUT_S, check=False)
        except FileNotFoundError:
            raise PromptError("git is not installed (needed for import-git)") from None
        except subprocess.TimeoutExpired:
            raise PromptError(f"git {args[0]} took longer than {_GIT_TIMEOUT_S}s in {repo}") from None
        if proc.returncode != 0:
            lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise PromptError(f"git {args[0]} failed in {repo}: {lines[-1] if lines else 'exit ' + str(proc.returncode)}")
        return proc.stdout

    def _git_log(self, repo: Path, file: str) -> list[dict[str, Any]]:
        out = self._git(
            repo,
            [
                "log",
                "--follow",
                "-M",
                "--no-color",
                "--no-ext-diff",
                "--name-status",
                "--format=%x1e%H%x1f%aI%x1f%an <%ae>%x1f%s",
                "--",
                file,
            ],
        ).decode("utf-8", "replace")
        commits = []
        for record in out.split("\x1e")[1:]:
            header, _, body = record.partition("\n")
            sha, date, author, subject = header.split("\x1f", 3)
            status_lines = [line.split("\t") for line in body.splitlines() if "\t" in line]
            if not status_lines:
                continue  # a merge: git shows no change for it, its parents carry the text
            status = status_lines[-1]
            if status[0].startswith("D"):
                continue  # the file was deleted here: no text to register
            commits.append(
                {
                    "commit": sha,
                    "date": datetime.fromisoformat(date),
                    "author": author,
                    "subject": subject,
                    "path": status[-1],
                }
            )
        commits.reverse()  # git lists newest first; versions are numbered oldest first
        return commits

    def _git_blobs(self, repo: Path, refs: list[tuple[str, str]]) -> list[str]:
        if not refs:
            return []
        request = "".join(f"{sha}:{path}\n" for sha, path in refs).encode("utf-8")
        out = self._git(repo, ["cat-file", "--batch"], stdin=request)
        texts = []
        pos = 0
        for sha, path in refs:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) < 3 or header[1] != b"blob":
                raise PromptError(f"git has no file {path} at {sha[:10]}")
            size = int(header[2])
            texts.append(_decode(out[end + 1 : end + 1 + size], f"{path} at {sha[:10]}"))
            pos = end + 1 + size + 1
        return texts

    def move_label(
        self,
        prompt_id: str,
        label: str,
        version: int,
        who: str,
        why: str,
        incident_id: str | None = None,
        at: datetime | None = None,
    ) -> LabelMove:
        """Point `label` at `version`, keeping the move (who, when, why, incident) forever."""
        validate_label(label)
        with self.repo.transaction():
            self.get(prompt_id, version)  # raises for an unknown prompt or version
            moves = self._moves(prompt_id)
            move = LabelMove(
                prompt_id=prompt_id,
                label=label,
                version=int(version),
                previous_version=labels_at(moves).get(label),
                at=_aware(at) if at is not None else _aware(self.clock()),
                who=who,
                why=why,
                incident_id=incident_id,
                seq=max((m.seq for m in moves), default=0) + 1,
            )
            self.repo.add_move(move)
        return move
