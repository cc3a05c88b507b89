"""Presence: who else is on an incident (domain rules) and the heartbeat files (store)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from incident_tui.domain.presence import Presence, valid_user, viewers, viewers_line
from incident_tui.store.presence import SWEEP_AFTER, PresenceBoard

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def beat(session: str, user: str, incident: str | None = "INC-1", ago: float = 0, where: str = "terminal") -> Presence:
    return Presence(session.ljust(32, "0"), user, where, incident, NOW - timedelta(seconds=ago))


def test_viewers_are_the_others_on_the_same_incident_and_fresh():
    me = beat("a", "ana")
    entries = [
        me,
        beat("b", "bo"),
        beat("c", "cy", where="browser"),
        beat("d", "di", incident="INC-2"),  # another incident
        beat("e", "ed", ago=31),  # stale: killed 31 s ago
        beat("f", "bo", ago=3),  # bo's second terminal: one name
    ]
    got = viewers(entries, me=me.session, incident_id="INC-1", now=NOW)
    assert [p.user for p in got] == ["bo", "cy"]
    assert viewers_line(got) == "bo, cy (web) viewing"
    assert viewers(entries, me=me.session, incident_id=None, now=NOW) == []
    assert viewers_line([]) == ""


def test_many_viewers_are_summarised():
    entries = [beat(str(i), f"u{i}") for i in range(6)]
    assert viewers_line(viewers(entries, me="x" * 32, incident_id="INC-1", now=NOW)).endswith("+3 viewing")


@pytest.mark.parametrize("name,ok", [("bo", True), ("ana.m-b_2", True), ("", False), ("a b", False),
                                     ("x" * 41, False), ("[bold]", False), ("bo\x1b]0;x\x07", False),
                                     ("é", False)])
def test_user_names_a_tab_may_claim(name, ok):
    assert valid_user(name) is ok


def test_board_round_trip_overwrites_in_place_and_leaves(tmp_path):
    board = PresenceBoard(tmp_path / "db.json")
    for i in range(50):  # fifty beats: still one small file
        board.beat(beat("a", "ana", ago=-i))
    board.beat(beat("b", "bo", incident=None))
    assert sorted(os.listdir(board.dir)) == ["a".ljust(32, "0") + ".json", "b".ljust(32, "0") + ".json"]
    got = {p.user: p for p in board.read(NOW)}
    assert got["ana"].at == NOW + timedelta(seconds=49) and got["bo"].incident_id is None
    assert oct(os.stat(board.dir / ("a".ljust(32, "0") + ".json")).st_mode & 0o777) == "0o600"
    board.leave("a".ljust(32, "0"))
    assert [p.user for p in board.read(NOW)] == ["bo"]


def test_board_of_a_symlinked_db_is_the_real_ones(tmp_path):
    (tmp_path / "real.json").write_text("")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    PresenceBoard(tmp_path / "link.json").beat(beat("a", "ana"))
    assert [p.user for p in PresenceBoard(tmp_path / "real.json").read(NOW)] == ["ana"]


def test_long_dead_heartbeats_are_swept(tmp_path):
    board = PresenceBoard(tmp_path / "db.json")
    board.beat(beat("a", "ana", ago=SWEEP_AFTER.total_seconds() + 1))
    board.beat(beat("b", "bo"))
    assert [p.user for p in board.read(NOW)] == ["bo"]
    assert len(os.listdir(board.dir)) == 1


def test_hostile_board_is_refused_or_ignored(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "db.json.presence").symlink_to(target)
    with pytest.raises(OSError):
        PresenceBoard(tmp_path / "db.json").beat(beat("a", "ana"))
    assert os.listdir(target) == []

    board = PresenceBoard(tmp_path / "other.json")
    board.beat(beat("a", "ana"))
    (board.dir / ("c" * 32 + ".json")).write_text("{not json")
    (board.dir / ("d" * 32 + ".json")).symlink_to(tmp_path / "db.json.presence")
    assert [p.user for p in board.read(NOW)] == ["ana"]
    with pytest.raises(ValueError):
        board.beat(Presence("../../x", "ana", "terminal", None, NOW))
