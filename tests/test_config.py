"""Settings: every invalid value gives a ConfigError naming the setting; the defaults round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from cspkit.config import SETTINGS, default_toml, load_config
from cspkit.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cspkit.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_file_loads_with_every_default(tmp_path: Path) -> None:
    """The file `init` writes is valid and gives each setting its declared default (or the override)."""
    path = _write(tmp_path, default_toml(partnership__name="Luton CSP", partnership__area_codes=["E06000032"]))
    config = load_config(path)
    for setting in SETTINGS:
        if setting.key == "partnership.name":
            assert config.get(setting.key) == "Luton CSP"
        elif setting.key == "partnership.area_codes":
            assert config.area_codes == ["E06000032"]
        else:
            assert config.get(setting.key) == setting.default, setting.key
    assert config.fy_start_month == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[partnership]\nfinancial_year_start_month = 13\n",
            "partnership.financial_year_start_month is 13; expected at most 12",
        ),
        (
            "[partnership]\nfinancial_year_start_month = 0\n",
            "partnership.financial_year_start_month is 0; expected at least 1",
        ),
        ('[partnership]\nfinancial_year_start_month = "April"\n', "partnership.financial_year_start_month must be int"),
        (
            "[partnership]\nfinancial_year_start_month = true\n",
            "partnership.financial_year_start_month must be a whole number",
        ),
        ("[partnership]\nname = 42\n", "partnership.name must be str"),
        ('[partnership]\narea_codes = ["E6000056"]\n', "area code 'E6000056' is not an ONS code"),
        ('[partnership]\narea_codes = "E06000056"\n', "partnership.area_codes must be list"),
        ('[partnership]\nnmae = "typo"\n', "unknown setting partnership.nmae; known settings: name, area_codes"),
        ('[definitions]\nharm_index = "bogus"\n', "definitions.harm_index is 'bogus'; expected one of 'cchi_approx'"),
        ("[definitions]\nsignificance_level = 0.9\n", "definitions.significance_level is 0.9; expected at most 0.5"),
        (
            "[definitions]\nrepeat_victim_min_incidents = 1\n",
            "definitions.repeat_victim_min_incidents is 1; expected at least 2",
        ),
        ('[definitions]\nmarac_recommended_per_10k = "forty"\n', "definitions.marac_recommended_per_10k must be float"),
        ('[disclosure]\nsecondary_suppression = "yes"\n', "disclosure.secondary_suppression must be bool"),
        ("definitions = 3\n", "[definitions] must be a table"),
        ('[partnership\nname = "x"\n', "is not valid TOML"),
    ],
)
def test_invalid_settings_name_the_setting(tmp_path: Path, text: str, expected: str) -> None:
    """Each invalid value, type, unknown name or broken file gives one ConfigError naming file and setting."""
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_whole_numbers_are_accepted_for_float_settings(tmp_path: Path) -> None:
    """A float setting written as a whole number (40) is read as 40.0; other tables are kept for their stages."""
    config = load_config(_write(tmp_path, '[definitions]\nmarac_recommended_per_10k = 40\n[matrix]\npreset = "x"\n'))
    assert config.get("definitions.marac_recommended_per_10k") == 40.0
    assert isinstance(config.get("definitions.marac_recommended_per_10k"), float)
    assert config.extra == {"matrix": {"preset": "x"}}


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing settings file is a ConfigError naming it, not an OSError."""
    with pytest.raises(ConfigError, match=r"Cannot read .*cspkit\.toml"):
        load_config(tmp_path / "cspkit.toml")
