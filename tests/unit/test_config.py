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
