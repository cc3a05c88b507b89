"""Full collections wait for a quiet keyboard; the young generations are collected as always."""

from __future__ import annotations

import gc

import pytest

from incident_tui.tui.idle_gc import QUIET_FOR, IdleCollector


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def collector(monkeypatch):
    clock = FakeClock()
    full = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: full.append(generation) or 0)
    collector = IdleCollector(clock=clock, backstop=100)
    yield collector, clock, full
    collector.stop()


def test_start_takes_the_oldest_generation_off_the_schedule_and_stop_gives_it_back(collector):
    idle, _, _ = collector
    before = gc.get_threshold()
    idle.start()
    assert gc.get_threshold() == (before[0], before[1], 100)
    idle.start()  # twice: still restores the original
    idle.stop()
    assert gc.get_threshold() == before


def test_a_full_collection_runs_only_after_the_keyboard_has_been_quiet(collector, monkeypatch):
    idle, clock, full = collector
    monkeypatch.setattr(gc, "get_count", lambda: (5, 3, 7))  # something reached the oldest generation
    assert not idle.look()  # not started: CPython's own schedule
    idle.start()
    idle.touched()
    clock.now += QUIET_FOR / 2
    assert not idle.look() and full == []
    idle.touched()
    clock.now += QUIET_FOR
    assert idle.look() and full == [2] and idle.collections == 1


def test_nothing_to_collect_means_no_collection(collector, monkeypatch):
    idle, clock, full = collector
    idle.start()
    clock.now += 10 * QUIET_FOR
    monkeypatch.setattr(gc, "get_count", lambda: (5, 3, 0))
    assert not idle.look() and full == []
