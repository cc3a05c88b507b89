"""The prompt registry: pure rules, the service on a real db file, and imports."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from incident_tui.domain.prompts import (
    LAST_KNOWN_GOOD,
    PRODUCTION,
    STAGING,
    LabelMove,
    PromptError,
    PromptVersion,
    UnknownPrompt,
    UnknownVersion,
    labels_at,
    last_known_good,
    natural_key,
    previous_label_version,
    text_sha256,
    version_live_at,
)
from incident_tui.services.prompts import PromptService
from incident_tui.store.storage import open_db

UTC = timezone.utc
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class StepClock:
    """Each call is one minute after the previous one."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "incidents.json")
    yield database
    database.close()


@pytest.fixture
def service(db) -> PromptService:
    return PromptService(db, clock=StepClock())


# --- pure rules -------------------------------------------------------------------------


def version(n: int, text: str | None = None, at: datetime | None = None) -> PromptVersion:
    text = f"text {n}\n" if text is None else text
    return PromptVersion("p", n, text, at or T0 + timedelta(hours=n), "text", text_sha256(text))


def move(label: str, n: int, minutes: int, seq: int = 0, previous: int | None = None) -> LabelMove:
    return LabelMove("p", label, n, previous, T0 + timedelta(minutes=minutes), "ana", "because", seq=seq)


def test_natural_sort():
    names = ["v10.j2", "v9.j2", "v1.j2", "V2.j2", "v01b.j2", "notes"]
    assert sorted(names, key=natural_key) == ["notes", "v1.j2", "v01b.j2", "V2.j2", "v9.j2", "v10.j2"]


def test_labels_at_replays_history_up_to_a_time():
    moves = [move(PRODUCTION, 1, 0), move(STAGING, 2, 5), move(PRODUCTION, 2, 10), move(PRODUCTION, 1, 20)]
    assert labels_at(moves) == {PRODUCTION: 1, STAGING: 2}
    assert labels_at(moves, T0 + timedelta(minutes=15)) == {PRODUCTION: 2, STAGING: 2}
    assert labels_at(moves, T0 - timedelta(minutes=1)) == {}
    # Two moves in the same instant: the later one (seq) wins.
    tied = [move(PRODUCTION, 3, 0, seq=2), move(PRODUCTION, 4, 0, seq=1)]
    assert labels_at(tied) == {PRODUCTION: 3}


def test_previous_production_version():
    moves = [move(PRODUCTION, 1, 0), move(PRODUCTION, 2, 10), move(PRODUCTION, 2, 12)]
    assert previous_label_version(moves) == 1
    assert previous_label_version([move(PRODUCTION, 1, 0)]) is None
    assert previous_label_version([]) is None


def test_version_live_at_uses_label_history_then_creation_times():
    versions = [version(1), version(2), version(3)]
    moves = [move(PRODUCTION, 1, 90), move(PRODUCTION, 3, 200)]
    assert version_live_at(versions, moves, T0 + timedelta(minutes=100)) == 1
    assert version_live_at(versions, moves, T0 + timedelta(minutes=250)) == 3
    # Before the label ever moved: the newest version that existed then.
    assert version_live_at(versions, moves, T0 + timedelta(minutes=70)) == 1
    assert version_live_at(versions, [], T0 + timedelta(hours=2, minutes=5)) == 2
    assert version_live_at(versions, [], T0) is None


def test_last_known_good_prefers_the_label_then_production_history_then_older_versions():
    versions = [version(1), version(2), version(3), version(4), version(5)]
    # Explicit label wins, if it is older than the failing version.
    assert last_known_good(versions, [move(LAST_KNOWN_GOOD, 2, 0)], 5) == 2
    assert last_known_good(versions, [move(LAST_KNOWN_GOOD, 5, 0)], 4) == 3
    # Else the production version the failing one replaced.
    assert last_known_good(versions, [move(PRODUCTION, 1, 0), move(PRODUCTION, 4, 5, previous=1)], 4) == 1
    # Else the newest older version.
    assert last_known_good(versions, [], 4) == 3
    assert last_known_good(versions, [], 1) is None


def test_last_known_good_skips_a_version_with_the_failing_text():
    versions = [version(1, "a\n"), version(2, "b\n"), version(3, "b\n")]
    assert last_known_good(versions, [], 3) == 1


# --- service: add, labels ---------------------------------------------------------------


def test_add_creates_a_version_only_when_the_text_changed(service, tmp_path):
    first = service.add("support", "Be kind.\n", author="ana", note="first")
    assert first is not None and first.version == 1 and first.author == "ana" and first.source == "text"
    assert service.add("support", "Be kind.\n") is None
    prompt_file = tmp_path / "support.txt"
    prompt_file.write_bytes(b"Be kind.\r\nBe brief.\r\n")
    second = service.add("support", prompt_file)
    assert second is not None and second.version == 2
    assert service.get("support", 2).text == "Be kind.\r\nBe brief.\r\n"  # bytes as they were
    assert second.source == f"file:{prompt_file}"
    assert [v.version for v in service.versions("support")] == [1, 2]
    assert service.versions("nope") == []


def test_get_errors_name_what_exists(service):
    service.add("support", "one\n")
    with pytest.raises(UnknownVersion, match="support has no version 7"):
        service.get("support", 7)
    with pytest.raises(UnknownPrompt):
        service.get("other", 1)


def test_move_label_keeps_every_move(service):
    for text in ("v1\n", "v2\n", "v3\n"):
        service.add("support", text)
    m1 = service.move_label("support", PRODUCTION, 1, "ana", "launch")
    m2 = service.move_label("support", PRODUCTION, 2, "bo", "new rules")
    m3 = service.move_label("support", PRODUCTION, 1, "ana", "rollback", incident_id="INC-20261125-001")
    service.move_label("support", STAGING, 3, "bo", "try the fix")
    assert (m1.previous_version, m2.previous_version, m3.previous_version) == (None, 1, 2)
    assert m3.incident_id == "INC-20261125-001"
    assert service.production_version("support") == 1
    assert service.label_version("support", STAGING) == 3
    history = service.label_history("support", PRODUCTION)
    assert [(m.version, m.who, m.why) for m in history] == [(1, "ana", "launch"), (2, "bo", "new rules"), (1, "ana", "rollback")]
    assert len(service.label_history("support")) == 4
    assert service.version_live_at("support", m2.at + timedelta(seconds=1)) == 2
    assert service.version_live_at("support", m3.at) == 1
    assert service.last_known_good("support", 2) == 1
    with pytest.raises(PromptError, match="unknown label"):
        service.move_label("support", "canary", 1, "ana", "x")
    with pytest.raises(UnknownVersion):
        service.move_label("support", PRODUCTION, 9, "ana", "x")
    assert len(service.label_history("support")) == 4


def test_registry_survives_reopening_the_db(tmp_path):
    path = tmp_path / "db.json"
    db = open_db(path)
    PromptService(db).add("support", "hello\n")
    PromptService(db).move_label("support", PRODUCTION, 1, "ana", "launch", at=T0)
    db.close()
    db = open_db(path)
    try:
        service = PromptService(db)
        assert service.get("support", 1).text == "hello\n"
        assert service.label_history("support")[0].at == T0
    finally:
        db.close()


def test_works_on_a_plain_tinydb_too():
    from tinydb import TinyDB
    from tinydb.storages import MemoryStorage

    service = PromptService(TinyDB(storage=MemoryStorage))
    service.add("p", "a\n")
    service.move_label("p", PRODUCTION, 1, "ana", "launch")
    assert service.production_version("p") == 1


# --- import-dir -------------------------------------------------------------------------


def test_import_dir_with_the_real_history(service, openhands_history):
    src = openhands_history
    added = service.import_dir(src, "openhands")
    assert [v.version for v in added] == list(range(1, 25))
    with (src / "versions.tsv").open(newline="") as fh:
        manifest = list(csv.DictReader(fh, delimiter="\t"))
    for v, row in zip(added, manifest):
        assert v.text == (src / row["file"]).read_bytes().decode("utf-8")
        assert v.commit == row["commit"]
        assert v.created_at == datetime.fromisoformat(row["authored"])
        assert v.note == row["subject"]
    # v06 is a rollback to v04's exact text: still its own version.
    assert service.get("openhands", 6).sha256 == service.get("openhands", 4).sha256
    assert service.import_dir(src, "openhands") == []
    assert len(service.versions("openhands")) == 24


def test_import_dir_natural_order_and_reimport(service, tmp_path):
    folder = tmp_path / "prompts"
    folder.mkdir()
    for name, text in [("p10.txt", "ten\n"), ("p2.txt", "two\n"), ("p1.txt", "one\n"), ("p3.txt", "two\n")]:
        (folder / name).write_text(text)
    (folder / "README.md").write_text("not a prompt\n")
    added = service.import_dir(folder, "demo")
    # p3 repeats p2's text: no change, no version.
    assert [(v.version, v.text, v.source_name) for v in added] == [(1, "one\n", "p1.txt"), (2, "two\n", "p2.txt"), (3, "ten\n", "p10.txt")]
    assert service.import_dir(folder, "demo") == []
    (folder / "p11.txt").write_text("eleven\n")
    assert [v.text for v in service.import_dir(folder, "demo")] == ["eleven\n"]
    assert [v.text for v in service.import_dir(folder, "other", pattern="p1*.txt")] == ["one\n", "ten\n", "eleven\n"]
    with pytest.raises(PromptError, match="no prompt files"):
        service.import_dir(folder, "x", pattern="*.nothing")


# --- import-git -------------------------------------------------------------------------

GIT = shutil.which("git")


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}
    ).stdout


@pytest.fixture
def git_env(monkeypatch, tmp_path):
    # Keep the user's git config (signing, hooks, default branch) out of the test repo.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_DIR", raising=False)
    for key, value in {
        "GIT_AUTHOR_NAME": "x",
        "GIT_AUTHOR_EMAIL": "x@example.org",
        "GIT_COMMITTER_NAME": "x",
        "GIT_COMMITTER_EMAIL": "x@example.org",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def openhands_repo(tmp_path, git_env, openhands_history) -> tuple[Path, list[dict[str, str]]]:
    """A real git repo whose history replays the first 8 OpenHands versions, with a rename."""
    src = openhands_history
    if GIT is None:
        pytest.skip("git is not installed")
    with (src / "versions.tsv").open(newline="") as fh:
        manifest = list(csv.DictReader(fh, delimiter="\t"))[:8]
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    path = repo / "system_prompt.j2"
    for i, row in enumerate(manifest):
        env = {"GIT_AUTHOR_DATE": row["authored"], "GIT_COMMITTER_DATE": row["authored"], "GIT_AUTHOR_NAME": f"author{i}"}
        if i == 4:
            # Rename-only commit before v5: --follow must carry on through it.
            (repo / "prompts").mkdir()
            git(repo, "mv", "system_prompt.j2", "prompts/system_prompt.j2", env=env)
            git(repo, "commit", "-q", "-m", "move the prompt", env=env)
            path = repo / "prompts" / "system_prompt.j2"
        if i == 2:
            (repo / "unrelated.txt").write_text("not the prompt\n")
            git(repo, "add", "unrelated.txt", env=env)
            git(repo, "commit", "-q", "-m", "unrelated", env=env)
        path.write_bytes((src / row["file"]).read_bytes())
        git(repo, "add", "-A", env=env)
        git(repo, "commit", "-q", "-m", row["subject"], env=env)
    return repo, manifest


def test_import_git_follows_renames_and_keeps_commit_metadata(service, openhands_repo, openhands_history):
    repo, manifest = openhands_repo
    added = service.import_git(repo, "prompts/system_prompt.j2", "openhands")
    assert len(added) == 8
    hashes = git(repo, "log", "--follow", "--format=%H", "--", "prompts/system_prompt.j2").split()[::-1]
    src = openhands_history
    for i, (v, row) in enumerate(zip(added, manifest)):
        assert v.version == i + 1
        assert v.text == (src / row["file"]).read_bytes().decode("utf-8")
        assert v.note == row["subject"]
        assert v.created_at == datetime.fromisoformat(row["authored"])
        assert v.author == f"author{i} <x@example.org>"
        assert v.commit in hashes
        assert v.source.startswith(f"git:{v.commit}:")
    assert added[0].source.endswith(":system_prompt.j2")
    assert added[-1].source.endswith(":prompts/system_prompt.j2")
    # Oldest first, and the rename-only commit is not a version.
    assert [v.commit for v in added] == [h for h in hashes if h in {v.commit for v in added}]
    assert len(hashes) == 9


def test_import_git_accepts_a_file_path_from_here(service, openhands_repo, monkeypatch):
    repo, _ = openhands_repo
    monkeypatch.chdir(repo.parent)
    assert len(service.import_git(Path("repo"), Path("repo") / "prompts" / "system_prompt.j2", "a")) == 8
    assert len(service.import_git(repo, repo / "prompts" / "system_prompt.j2", "b")) == 8


def test_import_git_twice_adds_only_new_commits(service, openhands_repo):
    repo, _ = openhands_repo
    service.import_git(repo, "prompts/system_prompt.j2", "openhands")
    assert service.import_git(repo, "prompts/system_prompt.j2", "openhands") == []
    target = repo / "prompts" / "system_prompt.j2"
    target.write_bytes(target.read_bytes() + b"* One more rule.\n")
    git(repo, "commit", "-q", "-am", "one more rule")
    again = service.import_git(repo, "prompts/system_prompt.j2", "openhands")
    assert [(v.version, v.note) for v in again] == [(9, "one more rule")]


def test_import_git_errors_are_one_line(service, tmp_path, git_env):
    if GIT is None:
        pytest.skip("git is not installed")
    with pytest.raises(PromptError, match="not a directory"):
        service.import_git(tmp_path / "missing", "x", "p")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(PromptError, match="git log failed"):
        service.import_git(plain, "x", "p")
    repo = tmp_path / "empty"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a").write_text("a\n")
    git(repo, "add", "a")
    git(repo, "commit", "-q", "-m", "a")
    with pytest.raises(PromptError, match="no commit"):
        service.import_git(repo, "b", "p")


def test_real_incident_flow_finds_the_regression_and_the_good_version(service, openhands_history):
    service.import_dir(openhands_history, "openhands")
    v4_live = service.get("openhands", 4).created_at
    service.move_label("openhands", PRODUCTION, 4, "ci", "release", at=v4_live)
    v5 = service.get("openhands", 5).created_at
    service.move_label("openhands", PRODUCTION, 5, "ci", "release", at=v5)
    incident_start = v5 + timedelta(days=2)
    assert service.version_live_at("openhands", incident_start) == 5
    assert service.last_known_good("openhands", 5) == 4
    service.move_label("openhands", PRODUCTION, 4, "ana", "rollback", incident_id="INC-20250123-001", at=incident_start + timedelta(hours=1))
    assert service.production_version("openhands") == 4
    assert service.version_live_at("openhands", incident_start) == 5
    # v22 reverted v21; v22's text is v20's, so v21 compares against v20.
    assert service.last_known_good("openhands", 21) == 20
