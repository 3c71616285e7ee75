import pytest

from kb.config import SETTINGS, load_settings, require_content_dir
from kb.errors import ConfigError


def test_defaults_without_environment():
    settings = load_settings(environ={})
    assert settings.port == 5000 and settings.top_k == 10 and str(settings.content_dir) == "content"


def test_environment_overrides_defaults():
    settings = load_settings(environ={"KB_TOP_K": "25", "KB_DATA_DIR": "/tmp/x", "KB_MODEL": "hashing"})
    assert settings.top_k == 25 and str(settings.data_dir) == "/tmp/x" and settings.model == "hashing"


@pytest.mark.parametrize("env, name", [({"KB_TOP_K": "abc"}, "KB_TOP_K"), ({"KB_PORT": "70000"}, "KB_PORT"),
                                       ({"KB_AUTH": "maybe"}, "KB_AUTH")])
def test_bad_setting_names_variable_and_expectation(env, name):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env)
    message = caught.value.message
    assert name in message and "expected" in message and "\n" not in message


def test_missing_content_folder_is_a_clear_error(tmp_path):
    settings = load_settings(overrides={"content_dir": str(tmp_path / "nope")}, environ={})
    with pytest.raises(ConfigError, match="KB_CONTENT_DIR"):
        require_content_dir(settings)


def test_every_setting_has_help_and_env_name():
    for setting in SETTINGS:
        assert setting.help and setting.expects and setting.env.startswith("KB_")


def test_readme_lists_every_setting():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.env for s in SETTINGS if s.env not in readme]
    assert missing == []
