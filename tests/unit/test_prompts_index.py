"""The prompt registry's per-prompt index follows every change: ours, another process's, a rollback."""

import pytest

from incident_tui.services.prompts import PromptService
from incident_tui.store.storage import open_db, transaction


@pytest.fixture
def registry(db_path):
    db = open_db(db_path)
    prompts = PromptService(db)
    prompts.add_texts("a", ["a one\n", "a two\n", "a three\n"], author="bo", note="seed")
    prompts.add_texts("b", ["b one\n", "b two\n"], author="bo", note="seed")
    yield prompts
    db.close()


def test_own_moves_and_versions_are_seen_at_once(registry):
    assert registry.labels("a") == {}
    registry.move_label("a", "production", 2, "bo", "release")
    registry.move_label("b", "production", 1, "bo", "release")
    registry.move_label("a", "production", 3, "bo", "release")
    assert registry.labels("a")["production"] == 3 and registry.labels("b")["production"] == 1
    registry.add_texts("a", ["a four\n"], author="bo", note="more")
    assert [v.version for v in registry.versions("a")] == [1, 2, 3, 4]
    assert registry.registry() == {"a": {1, 2, 3, 4}, "b": {1, 2}}


def test_another_process_s_moves_are_seen_after_refresh(registry, db_path):
    registry.move_label("a", "production", 1, "bo", "release")
    other = open_db(db_path)
    PromptService(other).move_label("a", "production", 3, "cy", "from elsewhere")
    other.close()
    registry.db.storage.refresh()
    assert registry.labels("a")["production"] == 3
    assert registry.move_label("a", "production", 2, "bo", "back").previous_version == 3


def test_a_rolled_back_move_is_forgotten(registry):
    registry.move_label("a", "production", 1, "bo", "release")
    with pytest.raises(RuntimeError), transaction(registry.db):
        registry.move_label("a", "production", 3, "bo", "undone")
        assert registry.labels("a")["production"] == 3
        raise RuntimeError("abandon")
    assert registry.labels("a")["production"] == 1
