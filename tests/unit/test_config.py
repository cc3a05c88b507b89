import re
from pathlib import Path

import pytest

from incident_tui.config import ConfigError, load_config
from incident_tui.domain.models import TriageCategory

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_config_example_loads(tmp_path):
    block = re.search(r"```toml\n(.*?)```", README.read_text(), re.S).group(1)
    path = tmp_path / "config.toml"
    path.write_text(block)
    config = load_config(path, explicit=True)
    assert config.user == "ana"
    assert config.hooks.rollback[0] == "/opt/ops/route-prompt.sh" and config.hooks.timeout == 60
    assert config.playbooks[TriageCategory.PROMPT_QUALITY] == ["Page #prompt-owners", "Freeze prompt deploys"]
    assert config.keys == {"note": "ctrl+n", "rollback": "R"}


def test_readme_key_ids_exist():
    from incident_tui.tui.bindings import KEYS

    ids = {k.id for k in KEYS}
    table = README.read_text().split("## Keys", 1)[1].split("In the diff pane", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([^`]+)`", row.rsplit("|", 2)[-2])}
    assert documented, "the key table lost its id column"
    for name in documented:
        if name.endswith(".*"):
            assert any(i.startswith(name[:-1]) for i in ids), name
        else:
            assert name in ids, name


@pytest.mark.parametrize(
    "text,expect",
    [
        ("[hooks]\nrollback = 5\n", "line 2, key 'hooks.rollback'"),
        ("[hooks]\ntimeout = -1\n", "key 'hooks.timeout'"),
        ("colour = 'red'\n", "key 'colour': unknown key"),
        ("[playbooks]\nnetwork = ['x']\n", "unknown triage category"),
        ("user = \n", "config.toml"),
    ],
)
def test_bad_config_is_one_line(tmp_path, text, expect):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, explicit=True)
    assert expect in str(err.value) and "\n" not in str(err.value)


def test_missing_default_config_is_fine_missing_explicit_is_not(tmp_path):
    assert load_config(tmp_path / "nope.toml").hooks.rollback == []
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", explicit=True)


def _load(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path, explicit=True)


def _error(tmp_path, text) -> str:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert "\n" not in message and str(tmp_path / "config.toml") in message
    return message


def test_a_hook_written_as_one_string_is_refused_with_the_list_form(tmp_path):
    # It used to load, then fail at rollback time with "No such file or directory".
    message = _error(tmp_path, 'user = "ana"\n\n[hooks]\nrollback = "/opt/ops/hook.sh --env prod"\n')
    assert "line 4, key 'hooks.rollback'" in message
    assert 'rollback = ["/opt/ops/hook.sh", "--env", "prod"]' in message
    message = _error(tmp_path, "[hooks]\nkill_switch = \"/opt/ops/kill.sh 'two words'\"\n")
    assert 'kill_switch = ["/opt/ops/kill.sh", "two words"]' in message


@pytest.mark.parametrize("value", ["[]", '[""]', '["ok", 5]'])
def test_a_hook_list_must_name_a_program(tmp_path, value):
    assert "key 'hooks.rollback'" in _error(tmp_path, f"[hooks]\nrollback = {value}\n")


def test_a_hook_program_missing_here_is_a_warning_naming_file_line_and_key(tmp_path):
    script = tmp_path / "rollback.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    plain = tmp_path / "not-executable.sh"
    plain.write_text("exit 0\n")
    config = _load(tmp_path, f'[hooks]\nrollback = ["{script}", "--now"]\nkill_switch = ["{plain}"]\n')
    assert config.hooks.rollback == [str(script), "--now"]
    assert config.hook_problem("rollback") is None
    [warning] = config.warnings
    assert "line 3, key 'hooks.kill_switch'" in warning and "not an executable file" in warning
    config = _load(tmp_path, '[hooks]\nrollback = ["no-such-program-anywhere"]\nkill_switch = ["~/kill.sh"]\n')
    assert "not on PATH" in config.warnings[0] and "line 2" in config.warnings[0]
    assert "only a shell expands" in config.warnings[1] and "line 3" in config.warnings[1]
    assert _load(tmp_path, '[hooks]\nrollback = ["sh", "-c", "exit 0"]\n').warnings == []


@pytest.mark.parametrize(
    "text,expect",
    [
        ("[hook]\nrollback = ['x']\n", "line 1, key 'hook': unknown key; did you mean 'hooks'?"),
        ("[hooks]\nrollbak = ['/bin/true']\n", "line 2, key 'hooks.rollbak': unknown key; did you mean 'rollback'?"),
        ("[hooks]\ntimeout = \"60\"\n", "line 2, key 'hooks.timeout': must be a positive number"),
        ("[hooks]\ntimeout = true\n", "key 'hooks.timeout'"),
        ("user = 5\n", "line 1, key 'user': must be a string"),
        ("hooks = 5\n", "key 'hooks': must be a table"),
        ("[playbooks]\nprompt-qualty = ['x']\n", "did you mean 'prompt-quality'?"),
        ("[playbooks]\napi = 'Check the status page'\n", "line 2, key 'playbooks.api': must be a list"),
        ("[alerts]\nprompt_lable = 'x'\n", "line 2, key 'alerts.prompt_lable': unknown key; did you mean 'prompt_label'?"),
        ("[alerts.severity_map]\ncritical = 'P0'\n", "line 2, key 'alerts.severity_map.critical'"),
        ("[keys]\nnote = 5\n", "line 2, key 'keys.note'"),
        # the same name in another table must not be the line reported
        ("[keys]\nrollback = 'R'\n[hooks]\nrollback = 'x y'\n", "line 4, key 'hooks.rollback'"),
    ],
)
def test_every_mistake_names_file_line_and_key(tmp_path, text, expect):
    assert expect in _error(tmp_path, text)


# --- [keys]: checked against every binding of the app and its panes ---------------------------------


def _keys_error(tmp_path, body) -> str:
    from incident_tui.tui.bindings import check_keymap

    config = _load(tmp_path, "# my keys\n[keys]\n" + body)
    with pytest.raises(ConfigError) as err:
        check_keymap(config)
    assert "\n" not in str(err.value) and str(tmp_path / "config.toml") in str(err.value)
    return str(err.value)


def test_a_key_given_two_actions_is_refused_naming_both_ids(tmp_path):
    # note = "r" used to silently take the rollback key away.
    message = _keys_error(tmp_path, 'note = "r"\n')
    assert "line 3, key 'keys.note'" in message and "'rollback'" in message


def test_an_unknown_key_id_is_refused_with_a_did_you_mean(tmp_path):
    message = _keys_error(tmp_path, 'star = "8"\nnotes = "ctrl+n"\n')
    assert "line 4, key 'keys.notes': unknown key id; did you mean 'note'?" in message


@pytest.mark.parametrize(
    "body,expect",
    [
        ('rollback = "w"\n', "'diff.wrap'"),  # r would be unreachable in the diff pane
        ('kill = "ctrl+z"\n', "'postmortem.list.undo'"),
        ('diff.wrap = "o"\n', "'diff.fold'"),
        ('postmortem.list.add = "w"\n', "'postmortem.actions.waive'"),
        ('note = "ctrl+p"\n', "command palette"),
        ('note = "ctrl+nn"\n', "not a key name"),
        ('note = "contrl+n"\n', "not a key name"),
    ],
)
def test_key_clashes_in_panes_and_bad_key_names(tmp_path, body, expect):
    assert expect in _keys_error(tmp_path, body)


@pytest.mark.parametrize(
    "body",
    [
        "",
        'note = "ctrl+n"\nrollback = "R"\n',  # the README's example
        'note = "r"\nrollback = "R"\n',  # a swap is fine
        'note = "i"\n',  # note and note.alt are one action
        'note = "w"\n',  # hidden in the diff pane, where i still writes a note
        '"diff.wrap" = "x"\npostmortem.copy_all = "f9"\n',
    ],
)
def test_remaps_that_keep_every_action_reachable_load(tmp_path, body):
    from incident_tui.tui.bindings import check_keymap

    check_keymap(_load(tmp_path, "[keys]\n" + body))
