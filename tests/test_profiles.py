"""Model profiles: every offered model is one calibrated entry; any other model gets the defaults."""

from kb import SETTINGS, FusionParams, profile_for
from kb.profiles import DEFAULTS, PROFILES


def test_every_offered_model_is_calibrated_and_loadable():
    for name, profile in PROFILES.items():
        assert profile.name == name and profile.calibrated and profile.load is not None
        assert 0 < profile.dense_margin < 1 and 0 < profile.related_threshold < 1


def test_a_model_without_an_entry_gets_the_documented_defaults():
    profile = profile_for("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")
    assert not profile.calibrated and profile.load is None
    assert (profile.dense_margin, profile.related_threshold, profile.fusion) == (
        DEFAULTS.dense_margin, DEFAULTS.related_threshold, FusionParams())
    assert profile.prefixes == ("", "")


def test_e5_models_by_name_get_their_prefixes():
    assert profile_for("/models/multilingual-e5-base").prefixes == ("query: ", "passage: ")


def test_the_model_setting_lists_every_profile():
    help_text = next(setting.help for setting in SETTINGS if setting.name == "model")
    assert all(name in help_text for name in PROFILES)
