"""The reducing-reoffending chapter: all cohorts, then one section per cohort (IOM, PPO)."""

from __future__ import annotations

from cspkit.findings.model import Finding
from cspkit.report.builder import Builder, percent_with_base, prov, sentences, small
from cspkit.report.model import Callout, Column, Section, Table

_COHORTS = {"iom": "IOM cohort", "ppo": "PPO cohort"}


def _reoffending_chapter(b: Builder) -> Section | None:
    findings = b.findings_of("reoffending.")
    if not findings:
        return None
    # The regression-to-the-mean caveat is stated here once for the whole chapter (the sentences do not repeat it).
    caution = Callout(
        "caution",
        "Regression to the mean",
        "People join an offender-management programme when their offending is at a peak, so some fall in their "
        "offending would happen anyway (regression to the mean): read falls after joining as an upper bound of the "
        "programme's effect. Members who joined or left during the period were on the programme for only part of "
        "it, so the same-period measures set part of a year against a full 12-month baseline; offences per "
        "member-year on equal windows before and after joining do not, and proven reoffending against "
        "OGRS-predicted compares members with what people like them usually do.",
    )
    if b.inp.public:
        b.hidden |= _secondary(b, findings)
    groups: dict[str, list[Finding]] = {"": []}
    for f in findings:
        cohort = f.id.split(".")[1]
        groups.setdefault(cohort if cohort in _COHORTS else "", []).append(f)
    main = groups.pop("")
    subsections = [
        Section(
            f"reoffending-{key}",
            f"The {_COHORTS[key]}",
            [
                *b.narrative(f"reoffending-{key}", sentences(b, _key_reoffending(group))),
                _measures_table(b, group, f"Reoffending measures: the {_COHORTS[key]}", f"reoffending-{key}-table"),
            ],
        )
        for key, group in groups.items()
    ]
    return Section(
        "reoffending",
        "Reducing reoffending",
        [
            *b.narrative("reoffending", sentences(b, _key_reoffending(main))),
            caution,
            _measures_table(b, main, "Reoffending measures: all cohorts", "reoffending-table"),
            *_flow_table(b, main),
        ],
        subsections,
        xlsx_sheet="Reoffending",
    )


#: The reoffending measures told in words; the others are in the chapter's table.
_KEY_REOFFENDING = (
    "offences_per_member_year",
    "reoffences_per_reoffender",
    "binary_rate",
    "before_after_change",
    "followup.binary_rate",
    "followup.actual_vs_ogrs",
)


def _key_reoffending(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if any(f.id.endswith("." + k) for k in _KEY_REOFFENDING)]


def _secondary(b: Builder, findings: list[Finding]) -> set[str]:
    """Findings to hide so that no suppressed cohort figure can be worked out from the others.

    - A measure suppressed for one cohort is hidden for all cohorts too (all minus the other cohort gives it).
    - A cohort's count of members not yet followed up is hidden when the members who were followed up (cohort
      size minus that count) are fewer than the threshold.
    """
    threshold = b.inp.suppress_below
    by_id = {f.id: f for f in findings}
    hidden: set[str] = set()
    for f in findings:
        parts = f.id.split(".")
        if len(parts) > 2 and parts[1] in _COHORTS and (f.small_number or small(f, threshold)):
            hidden.add(".".join([parts[0], *parts[2:]]))  # the all-cohorts version of the same measure
    for cohort in ("", *(f"{c}." for c in _COHORTS)):
        size = by_id.get(f"reoffending.{cohort}cohort_size")
        pending = by_id.get(f"reoffending.{cohort}followup.incomplete")
        if size is None or pending is None or size.value is None or pending.value is None:
            continue
        followed = size.value - pending.value
        if 0 < followed < threshold:
            hidden.add(pending.id)
            hidden.update(fid for fid in by_id if fid.startswith(f"reoffending.{cohort}followup."))
    return hidden


def _measures_table(b: Builder, findings: list[Finding], caption: str, id_: str) -> Table:
    """One row per finding: its value and comparison as printed, and the verdict (a compact chapter table).

    Public edition: "<5" is printed only for a count that is from 1 to 4; any other suppressed value (a share of a
    small cohort, a figure hidden by secondary suppression) is "not published", and no verdict is printed for it.
    """
    threshold = b.inp.suppress_below

    def suppressed(f: Finding) -> bool:
        # a count is suppressed when it is from 1 to the threshold minus one; a share of a small group always
        if not b.inp.public:
            return False
        if f.id in b.hidden or small(f, threshold):
            return True
        return f.small_number and f.unit != "count"

    def shown(f: Finding, value: float | None) -> str:
        if value is None:
            return ""
        if suppressed(f):
            true_bound = f.unit == "count" and 0 < value < threshold
            return f"<{threshold}" if true_bound else "not published"
        if f.unit == "proportion":
            return percent_with_base(f) if value == f.value else f"{value:.0%}"
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"

    rows = []
    for f in findings:
        b.used_ids.add(f.id)
        rows.append(
            {
                "measure": f.title,
                "value": shown(f, f.value),
                "baseline": shown(f, f.baseline),
                "verdict": "" if suppressed(f) or f.change is None else b.verdict(f),
            }
        )
    note = ""
    if b.inp.public:
        # a table that is mostly "not published" tells a board nothing: such rows are counted, not printed
        kept = [
            r for r in rows if r["value"] not in ("not published", "") or r["baseline"] not in ("not published", "")
        ]
        if len(kept) < len(rows):
            note = (
                f"{len(rows) - len(kept)} more measures are not published: they rest on small numbers, or with the "
                "other cohort's figures would give a small number away."
            )
        rows = kept
    return Table(
        [
            Column("measure", "Measure"),
            Column("value", "Current"),
            Column("baseline", "Comparison"),
            Column("verdict", "Verdict"),
        ],
        rows,
        caption=caption,
        note=note,
        id=id_,
        provenance=prov(findings),
    )


def _flow_table(b: Builder, findings: list[Finding]) -> list[Table]:
    """Entries, exits and members on the programme per quarter (restricted edition only: quarterly counts are small
    and are not suppressed here)."""
    flow = next((f for f in findings if f.id == "reoffending.cohort_flow"), None)
    if flow is None or b.inp.public:
        return []
    rows = [
        {
            "quarter": r["label"],
            "entered": r["entered"],
            "exited": r["exited"],
            "active": r["active_at_end"],
            "median": ""
            if r["median_days_on_programme_of_leavers"] is None
            else f"{r['median_days_on_programme_of_leavers'] / 30.44:.1f}",
        }
        for r in flow.extra.get("quarters", [])
    ]
    return [
        Table(
            [
                Column("quarter", "Quarter"),
                Column("entered", "Joined"),
                Column("exited", "Left"),
                Column("active", "On the programme at the end"),
                Column("median", "Median months on the programme of those who left"),
            ],
            rows,
            caption="Cohort flow by quarter: all cohorts",
            id="reoffending-flow-table",
            provenance=prov([flow], flow.definition),
        )
    ]


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _reoffending_chapter(b)
    return [] if section is None else [section]
