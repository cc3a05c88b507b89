"""Full collections wait for a quiet keyboard; young ones come per YOUNG surviving objects, not per 700."""

from __future__ import annotations

import gc

import pytest

from incident_tui.tui.idle_gc import QUIET_FOR, YOUNG, IdleCollector

COLLECT = gc.collect  # the real one (the fixture records calls instead)


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
    assert gc.get_threshold() == (max(before[0], YOUNG), before[1], 100)
    idle.start()  # twice: still restores the original
    idle.stop()
    assert gc.get_threshold() == before


def test_young_collections_wait_for_a_keystrokes_worth_of_objects_but_a_higher_setting_is_kept(collector):
    idle, _, _ = collector
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, before[1], before[2])
        idle.start()
        assert gc.get_threshold()[0] == YOUNG > 700
        idle.stop()
        assert gc.get_threshold()[0] == 700
        gc.set_threshold(5 * YOUNG, before[1], before[2])  # someone asked for fewer collections still
        idle.start()
        assert gc.get_threshold()[0] == 5 * YOUNG
        idle.stop()
    finally:
        gc.set_threshold(*before)


def test_a_burst_of_short_lived_objects_under_young_starts_no_collection(collector):
    # What a keystroke does: thousands of containers alive for a moment, freed before the next key.
    idle, _, _ = collector
    runs = []
    def count(phase, info):
        if phase == "start":
            runs.append(info["generation"])
    gc.callbacks.append(count)
    try:
        idle.start()
        COLLECT(0)  # the count starts from nothing
        runs.clear()
        for _ in range(20):
            held = [[index] for index in range(YOUNG // 2)]
            del held
        idle.stop()
    finally:
        gc.callbacks.remove(count)
    assert runs == []


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
