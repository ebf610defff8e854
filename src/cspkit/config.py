"""Workspace settings, declared once.

Every setting of ``cspkit.toml`` is declared in :data:`SETTINGS` with its type, default and meaning. That one
declaration drives the file written by ``cspkit init``, validation when the file is read, the method notes printed
in reports, and ``docs/configuration.md`` (a test fails when the doc is stale).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from cspkit.errors import ConfigError

__all__ = ["SETTINGS", "Config", "Setting", "configuration_markdown", "default_toml", "load_config"]


@dataclass(frozen=True)
class Setting:
    """One setting of cspkit.toml: ``section.name``, its type, default and meaning."""

    section: str
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"


SETTINGS: tuple[Setting, ...] = (
    # partnership
    Setting("partnership", "name", str, "", "Name of the Community Safety Partnership, as printed on the cover."),
    Setting(
        "partnership",
        "area_codes",
        list,
        [],
        "ONS local authority district codes (E06/E07/E08/E09/W06 + 6 digits) that make up the partnership area.",
    ),
    Setting(
        "partnership",
        "financial_year_start_month",
        int,
        4,
        "First month of the financial year (4 = April).",
        minimum=1,
        maximum=12,
    ),
    Setting(
        "partnership",
        "protective_marking",
        str,
        "OFFICIAL-SENSITIVE",
        "Protective marking for restricted outputs (header and footer of every page).",
    ),
    # definitions
    Setting(
        "definitions",
        "repeat_victim_min_incidents",
        int,
        3,
        "A repeat ASB victim has at least this many incidents within the window.",
        minimum=2,
    ),
    Setting(
        "definitions",
        "repeat_victim_window_days",
        int,
        365,
        "Rolling window, in days, for the repeat ASB victim definition.",
        minimum=1,
    ),
    Setting(
        "definitions",
        "community_trigger_min_incidents",
        int,
        3,
        "ASB case review (Community Trigger) threshold: qualifying complaints within the window.",
        minimum=1,
    ),
    Setting(
        "definitions",
        "community_trigger_window_days",
        int,
        183,
        "ASB case review (Community Trigger) window in days (6 months).",
        minimum=1,
    ),
    Setting(
        "definitions",
        "asb_high_risk_score",
        int,
        22,
        "ASB vulnerability risk score at or above which a case counts as high risk (Stockton/Flare: 22).",
        minimum=0,
    ),
    Setting(
        "definitions",
        "da_repeat_window_days",
        int,
        365,
        "Domestic abuse repeat victim: a further incident within this many days of a previous one.",
        minimum=1,
    ),
    Setting(
        "definitions",
        "marac_repeat_window_days",
        int,
        365,
        "A MARAC referral is a repeat when it comes within this many days of the same victim's previous one.",
        minimum=1,
    ),
    Setting(
        "definitions",
        "marac_recommended_per_10k",
        float,
        40.0,
        "SafeLives recommended MARAC volume per 10,000 women aged 16 and over per year.",
        minimum=0,
    ),
    Setting(
        "definitions",
        "marac_repeat_expected_low",
        float,
        0.28,
        "Lower end of the expected MARAC repeat-referral rate (CAADA-era band; verify before use).",
        minimum=0,
        maximum=1,
    ),
    Setting(
        "definitions",
        "marac_repeat_expected_high",
        float,
        0.40,
        "Upper end of the expected MARAC repeat-referral rate.",
        minimum=0,
        maximum=1,
    ),
    Setting(
        "definitions",
        "reoffending_followup_months",
        int,
        12,
        "MoJ-style follow-up window after programme entry, in months.",
        minimum=1,
    ),
    Setting(
        "definitions",
        "reoffending_waiting_months",
        int,
        6,
        "Waiting period after the follow-up window for offences to reach an outcome, in months.",
        minimum=0,
    ),
    Setting(
        "definitions",
        "spc_deseasonalise",
        bool,
        False,
        "Divide each month by its seasonal index before drawing control charts (needs 24 months before the period "
        "judged, every calendar month at least twice; otherwise the chart says it was not applied).",
    ),
    Setting(
        "definitions",
        "deduplicate_nested_candidates",
        bool,
        True,
        "Score nested priority candidates once: violence and sexual offences net of domestic-abuse crimes, domestic "
        "abuse net of the sexual offences scored as sexual violence (false: only name the overlap).",
    ),
    Setting(
        "definitions",
        "ogrs_horizon_months",
        int,
        24,
        "Months over which the loaded ogrs_score predicts a proven reoffence (OASys gives OGRS3 for 12 and 24 "
        "months; 24 is the score its risk bands use). Actual against predicted follows members for this long.",
        choices=(12, 24),
    ),
    Setting(
        "definitions",
        "reoffending_not_proven_outcomes",
        list,
        ["No further action", "Under investigation", "Awaiting court outcome", "Community resolution", "Not guilty"],
        "Offence outcomes that do not make a proven reoffence in the MoJ-style follow-up (matched ignoring case); "
        "an offence counts only with another outcome (charge, conviction, caution) dated inside the window.",
    ),
    Setting(
        "definitions",
        "night_time_economy",
        str,
        "Fri 20:00-04:00; Sat 20:00-04:00",
        "Night-time economy hours used for the ASB night-time share.",
    ),
    Setting(
        "definitions",
        "significance_level",
        float,
        0.05,
        "False discovery rate for significance verdicts (Benjamini-Hochberg across indicators compared together).",
        minimum=0.0001,
        maximum=0.5,
    ),
    Setting(
        "definitions",
        "small_number_threshold",
        int,
        10,
        "Below this count, sentences avoid percentages and give the counts only.",
        minimum=1,
    ),
    Setting(
        "definitions",
        "harm_index",
        str,
        "cchi_approx",
        "Harm weights per crime type: 'cchi_approx' (approximate Cambridge Crime Harm Index day weights) "
        "or 'unweighted' (every crime counts 1; the alternative used in sensitivity analysis).",
        choices=("cchi_approx", "unweighted"),
    ),
    # report
    Setting(
        "report",
        "neutral_measures",
        list,
        ["da.incidents", "da.crimes", "da.ward.", "da.marac.referrals", "sv.partner.count", "substance."],
        "Finding ids (or id prefixes ending in '.') whose significant changes the report rates neither better nor "
        "worse: more domestic abuse reported is treated as more victims coming forward, not as a worse outcome.",
    ),
    # disclosure
    Setting(
        "disclosure",
        "suppress_below",
        int,
        5,
        "Public outputs suppress counts from 1 up to this value minus one.",
        minimum=1,
    ),
    Setting(
        "disclosure",
        "secondary_suppression",
        bool,
        True,
        "Also suppress the next-smallest cells so suppressed counts cannot be recovered from totals.",
    ),
    Setting("disclosure", "public_marking", str, "OFFICIAL", "Protective marking for public-edition outputs."),
    Setting(
        "disclosure",
        "min_cohort_for_rates",
        int,
        20,
        "Public outputs do not give a percentage for groups smaller than this (e.g. IOM cohorts).",
        minimum=1,
    ),
)

_BY_KEY = {s.key: s for s in SETTINGS}

#: Tables of cspkit.toml owned by other stages (local indicators, extra candidates, the scoring matrix).
EXTRA_TABLES = ("indicators", "candidates", "matrix")


@dataclass(frozen=True)
class Config:
    """Validated settings of one workspace; read with ``config.get("definitions.harm_index")``."""

    values: dict[str, Any]
    extra: dict[str, Any]
    path: Path | None = None

    def get(self, key: str) -> Any:
        return self.values[key]

    @property
    def name(self) -> str:
        return str(self.values["partnership.name"])

    @property
    def area_codes(self) -> list[str]:
        return list(self.values["partnership.area_codes"])

    @property
    def fy_start_month(self) -> int:
        return int(self.values["partnership.financial_year_start_month"])

    def definitions(self) -> dict[str, Any]:
        """The analytical definitions in force, for printing in method notes."""
        return {s.key: self.values[s.key] for s in SETTINGS if s.section == "definitions"}


def _check(setting: Setting, value: Any, where: str) -> Any:
    expected = setting.type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is int and isinstance(value, bool):
        raise ConfigError(f"{where}: {setting.key} must be a whole number, not {value!r}.")
    if not isinstance(value, expected):
        raise ConfigError(f"{where}: {setting.key} must be {expected.__name__}, not {value!r}. {setting.help}")
    if setting.choices and value not in setting.choices:
        allowed = ", ".join(repr(c) for c in setting.choices)
        raise ConfigError(f"{where}: {setting.key} is {value!r}; expected one of {allowed}.")
    number: Any = value
    if setting.minimum is not None and number < setting.minimum:
        raise ConfigError(f"{where}: {setting.key} is {value}; expected at least {setting.minimum}.")
    if setting.maximum is not None and number > setting.maximum:
        raise ConfigError(f"{where}: {setting.key} is {value}; expected at most {setting.maximum}.")
    if setting.key == "partnership.area_codes":
        codes = cast(list[Any], value)
        for code in codes:
            if not (isinstance(code, str) and len(code) == 9 and code[0] in "EW" and code[1:].isdigit()):
                raise ConfigError(f"{where}: area code {code!r} is not an ONS code like E06000056.")
    return value


def load_config(path: Path) -> Config:
    """Read and validate a cspkit.toml file.

    Unknown settings in the declared sections are refused (a typo should not silently fall back to a default);
    other top-level tables (``[[indicators]]``, ``[topics]``, ``[matrix]``...) are kept in ``extra`` for the
    stages that own them.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from None
    sections = {s.section for s in SETTINGS}
    values: dict[str, Any] = {}
    for section in sections:
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table.")
        for name in table:
            if f"{section}.{name}" not in _BY_KEY:
                known = ", ".join(s.name for s in SETTINGS if s.section == section)
                raise ConfigError(f"{path}: unknown setting {section}.{name}; known settings: {known}.")
    for setting in SETTINGS:
        table = data.get(setting.section, {})
        value = table.get(setting.name, setting.default)
        values[setting.key] = _check(setting, value, str(path))
    extra = {k: v for k, v in data.items() if k not in sections}
    for name in extra:
        if name not in EXTRA_TABLES:
            import difflib

            close = difflib.get_close_matches(name, [*sections, *EXTRA_TABLES], n=1)
            hint = f" Did you mean [{close[0]}]?" if close else ""
            raise ConfigError(
                f"{path}: unknown table [{name}].{hint} Known: {', '.join(sorted([*sections, *EXTRA_TABLES]))}."
            )
    return Config(values=values, extra=extra, path=path)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def default_toml(**overrides: Any) -> str:
    """The text of a new cspkit.toml, every setting present with its meaning as a comment.

    Args:
        **overrides: Values by key with dots replaced by double underscores, e.g.
            ``partnership__name="Central Bedfordshire CSP"``.
    """
    lines = ["# cspkit workspace settings. Every setting is documented in docs/configuration.md.", ""]
    section = ""
    for s in SETTINGS:
        if s.section != section:
            section = s.section
            lines += ["", f"[{section}]"]
        value = overrides.get(f"{s.section}__{s.name}", s.default)
        lines.append(f"# {s.help}")
        lines.append(f"{s.name} = {_toml_value(value)}")
    return "\n".join(lines).lstrip() + "\n"


def configuration_markdown() -> str:
    """The settings reference, generated from :data:`SETTINGS` (written to docs/configuration.md)."""
    out = [
        "# Workspace settings (`cspkit.toml`)",
        "",
        "Generated from `src/cspkit/config.py`; do not edit by hand (`make docs` regenerates it).",
        "",
    ]
    section = ""
    for s in SETTINGS:
        if s.section != section:
            section = s.section
            out += [f"## [{section}]", "", "| setting | type | default | meaning |", "|---|---|---|---|"]
        default = _toml_value(s.default)
        extra = ""
        if s.choices:
            extra = " One of " + ", ".join(f"`{c}`" for c in s.choices) + "."
        out.append(f"| `{s.name}` | {s.type.__name__} | `{default}` | {s.help}{extra} |")
        if s is SETTINGS[-1] or SETTINGS[SETTINGS.index(s) + 1].section != section:
            out.append("")
    return "\n".join(out)
