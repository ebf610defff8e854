"""Evidence rules: how findings become criterion inputs, in words a board can check.

The caller assembles one :class:`CandidateEvidence` per candidate issue from findings (nothing here recomputes
a statistic). Each rule reads one or two of its fields, picks a level on the criterion's scale and returns an
:class:`~cspkit.priorities.matrix.EvidenceValue` whose explanation gives the input value, the band it falls in
and the finding ids. A rule returns None when its input is absent: the candidate is then incomplete, never
scored as zero.

Rules (scale levels are listed lowest first; a band includes its lower bound):

``volume_percentile``
    ``rate`` (per 1,000 residents) as a percentile among all candidates that have one, split into as many
    equal bands as the scale has levels: with five, <20 / 20-40 / 40-60 / 60-80 / >=80.
``harm_percentile``
    The same on ``harm_rate`` (harm-index days per 1,000 residents).
``likelihood_from_volume``
    The same on ``count`` (how often it happens): quintiles for a 1-5 scale, quartiles for 1-4.
``trend_significance`` (five levels)
    A change that is significant after multiple-comparison adjustment decides alone: rise 5, fall 1.
    Otherwise, where the change was tested but is not significant, the Poisson z gives 4 (z >= 1), 2 (z <= -1)
    or 3, so noise never scores 1 or 5. Where there is only a z score (no test), the domain z bands apply:
    z <= -2: 1, -2 < z <= -1: 2, -1 < z < 1: 3, 1 <= z < 2: 4, z >= 2: 5. A test without a z scores 3.
``public_concern_share`` (five levels)
    Share of residents naming the issue (a proportion 0-1): 0 (not mentioned) 1, under 5% 2, 5-15% 3,
    15-30% 4, 30% or more 5. None means there is no public-views evidence for the issue.
``vulnerability`` (three or five levels)
    The higher of ``repeat_share`` and ``high_risk_share``: with five levels, <10% / 10-20% / 20-30% /
    30-40% / >=40%; with three, <10% / 10-30% / >=30% [illustrative local choice].

Percentiles use the mid-rank: (candidates below + half of those equal, itself included) / candidates x 100, so
with five candidates the lowest is at 10 and the highest at 90.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cspkit.errors import AnalysisError
from cspkit.findings.model import Change, Direction
from cspkit.priorities.judgements import JudgementStore
from cspkit.priorities.matrix import CandidateInputs, Criterion, EvidenceValue, Matrix

__all__ = ["RULES", "CandidateEvidence", "build_inputs", "percentile_rank", "resample_evidence"]


@dataclass(frozen=True)
class CandidateEvidence:
    """What the findings say about one candidate issue, assembled by the caller.

    Attributes:
        key: Candidate identifier, e.g. ``domestic_abuse``.
        label: Human label.
        count: Events in the last 12 months.
        rate: Rate per 1,000 residents in the last 12 months.
        change: The change against the previous 12 months, with its test.
        poisson_z: Poisson z for the same comparison, if computed.
        harm_rate: Harm-index days per 1,000 residents.
        repeat_share: Share of victims who are repeat victims (0-1).
        high_risk_share: Share of cases assessed high risk (0-1).
        public_concern_share: Share of residents naming the issue a top concern (0-1; 0 = not mentioned;
            None = no public-views evidence).
        finding_ids: The findings behind each field, keyed by field name (``{"rate": ["crime.asb.count"]}``);
            a plain list means the same findings lie behind every field.
        overrides: Flags to show beside the score ("statutory duty", ...).
        repeat_base: Victims the repeat share is of (its denominator), when known.
        high_risk_base: Cases the high-risk share is of, when known.
    """

    key: str
    label: str
    count: float | None = None
    rate: float | None = None
    change: Change | None = None
    poisson_z: float | None = None
    harm_rate: float | None = None
    repeat_share: float | None = None
    high_risk_share: float | None = None
    public_concern_share: float | None = None
    finding_ids: dict[str, list[str]] | list[str] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)
    #: The people (victims, cases) each share is of, so the sensitivity analysis can redraw the share within its
    #: sampling uncertainty; None keeps the share as measured.
    repeat_base: float | None = None
    high_risk_base: float | None = None

    def ids_for(self, *fields: str) -> list[str]:
        """Return the finding ids behind the given fields, without repeats, in order."""
        if isinstance(self.finding_ids, list):
            return list(dict.fromkeys(self.finding_ids))
        ids: list[str] = []
        for name in fields:
            ids.extend(self.finding_ids.get(name, []))
        return list(dict.fromkeys(ids))


def resample_evidence(candidates: Sequence[CandidateEvidence], rng: Any) -> list[CandidateEvidence]:
    """One redraw of the evidence within its uncertainty, for the sensitivity analysis.

    * Volume and harm rates are multiplied by one gamma factor per candidate with mean 1 and variance
      ``φ / count`` (``φ`` the over-dispersion its change test estimated, at least 1): the sampling noise of
      a count of that size.
    * A trend verdict is redrawn as a replicate of its test would come out: ``log RR*`` from a normal around the
      estimate with the standard error implied by its 95% interval, called significant when it clears the
      multiplicity-adjusted critical value the finding was judged at.
    * A repeat-victim or high-risk share with a known base ``n`` is redrawn from its Jeffreys posterior,
      Beta(x + 1/2, n - x + 1/2) with ``x = share x n``: a share of 29% of 35 victims crosses a 30% threshold in
      about half the draws, one of 29% of 3,500 almost never.
    * Public concern (a survey share, its respondents not carried here) and judgements are kept as measured.
    """

    from scipy import stats as st

    out = []
    for c in candidates:
        changes: dict[str, Any] = {}
        count = c.count or 0.0
        if count > 0:
            phi = max(1.0, c.change.dispersion or 1.0) if c.change is not None else 1.0
            factor = float(rng.gamma(count / phi, phi / count))
            changes.update(
                rate=c.rate * factor if c.rate is not None else None,
                harm_rate=c.harm_rate * factor if c.harm_rate is not None else None,
                count=count * factor,
            )
        for name, base in (("repeat_share", c.repeat_base), ("high_risk_share", c.high_risk_base)):
            share = getattr(c, name)
            if share is not None and base is not None and base >= 1:
                x = min(max(share * base, 0.0), base)
                changes[name] = float(rng.beta(x + 0.5, base - x + 0.5))
        ch = c.change
        if ch is not None and ch.rate_ratio and ch.ci_low and ch.ci_high and ch.p_value is not None:
            se = (math.log(ch.ci_high) - math.log(ch.ci_low)) / (2 * st.norm.ppf(0.5 + ch.ci_level / 2))
            level = ch.ci_adjusted_level or (1 - 0.05)
            critical = float(st.norm.ppf(0.5 + level / 2))
            draw = float(rng.normal(math.log(ch.rate_ratio), se))
            significant = se > 0 and abs(draw) / se > critical
            direction: Direction = ("up" if draw > 0 else "down") if significant else "none"
            changes["change"] = replace(ch, significant=significant, direction=direction, rate_ratio=math.exp(draw))
        out.append(replace(c, **changes) if changes else c)
    return out


Rule = Callable[[Criterion, CandidateEvidence, Sequence[CandidateEvidence]], EvidenceValue | None]


def percentile_rank(value: float, values: Sequence[float]) -> float:
    """Return the mid-rank percentile (0-100) of ``value`` among ``values`` (which include it)."""
    below = sum(1 for v in values if v < value)
    equal = sum(1 for v in values if v == value)
    return 100.0 * (below + 0.5 * equal) / len(values)


def _ordinal(n: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _cite(ids: list[str]) -> str:
    return f" Findings: {', '.join(ids)}." if ids else " No finding ids were given."


def _level(criterion: Criterion, index: int) -> tuple[int | float | str, str]:
    level = criterion.scale[index]
    return level.value, level.label


def _percentile_rule(
    field_name: str, describe: Callable[[float], str]
) -> Callable[[Criterion, CandidateEvidence, Sequence[CandidateEvidence]], EvidenceValue | None]:
    def rule(
        criterion: Criterion, candidate: CandidateEvidence, everyone: Sequence[CandidateEvidence]
    ) -> EvidenceValue | None:
        value: float | None = getattr(candidate, field_name)
        if value is None:
            return None
        compared = [v for v in (getattr(c, field_name) for c in everyone) if v is not None]
        pct = percentile_rank(value, compared)
        bands = len(criterion.scale)
        # Equal-width bands, lower bound inclusive; the small epsilon keeps 40.0 in the 40-60 band.
        index = min(bands - 1, math.floor(pct * bands / 100.0 + 1e-9))
        low, high = 100.0 * index / bands, 100.0 * (index + 1) / bands
        level, label = _level(criterion, index)
        ids = candidate.ids_for(field_name)
        return EvidenceValue(
            value=round(pct, 1),
            score_input=level,
            finding_ids=ids,
            explanation=(
                f"{describe(value)} is at the {_ordinal(round(pct))} percentile of {len(compared)} candidate issues "
                f"(band {low:.0f}-{high:.0f}), so {criterion.label} is {level} ({label})." + _cite(ids)
            ),
        )

    return rule


def _trend(
    criterion: Criterion, candidate: CandidateEvidence, everyone: Sequence[CandidateEvidence]
) -> EvidenceValue | None:
    change, z = candidate.change, candidate.poisson_z
    if change is None and z is None:
        return None
    if change is not None and change.significant and change.direction in ("up", "down"):
        index = 4 if change.direction == "up" else 0
        p = f"adjusted p = {change.p_adjusted:.3g}" if change.p_adjusted is not None else "significant"
        ratio = f", rate ratio {change.rate_ratio:.2f}" if change.rate_ratio is not None else ""
        reason = f"a significant {'rise' if index == 4 else 'fall'} after adjustment ({p}{ratio})"
    elif z is not None and change is not None:
        index = 3 if z >= 1 else 1 if z <= -1 else 2
        reason = f"no significant change after adjustment, Poisson z = {z:.2f}"
    elif z is not None:
        index = 4 if z >= 2 else 3 if z >= 1 else 0 if z <= -2 else 1 if z <= -1 else 2
        reason = f"Poisson z = {z:.2f} (no significance test given)"
    else:
        index = 2
        reason = "no significant change after adjustment"
    level, label = _level(criterion, index)
    ids = candidate.ids_for("change", "poisson_z")
    value = z if z is not None else (change.rate_ratio if change is not None else None)
    return EvidenceValue(
        value=None if value is None else round(value, 4),
        score_input=level,
        finding_ids=ids,
        explanation=f"Last 12 months against the previous 12: {reason}, so {criterion.label} is {level} "
        f"({label})." + _cite(ids),
    )


def _share(candidate: CandidateEvidence, name: str) -> float | None:
    share: float | None = getattr(candidate, name)
    if share is not None and not 0.0 <= share <= 1.0:
        raise AnalysisError(f"candidate '{candidate.key}': {name} must be a proportion between 0 and 1, got {share}")
    return share


def _public_concern(
    criterion: Criterion, candidate: CandidateEvidence, everyone: Sequence[CandidateEvidence]
) -> EvidenceValue | None:
    share = _share(candidate, "public_concern_share")
    if share is None:
        return None
    index = 0 if share == 0 else 1 + sum(1 for t in (0.05, 0.15, 0.30) if share >= t)
    level, label = _level(criterion, index)
    ids = candidate.ids_for("public_concern_share")
    said = "not mentioned by residents" if share == 0 else f"named by {share:.1%} of residents"
    return EvidenceValue(
        value=share,
        score_input=level,
        finding_ids=ids,
        explanation=f"{candidate.label} was {said}, so {criterion.label} is {level} ({label})." + _cite(ids),
    )


_VULNERABILITY_THRESHOLDS = {3: (0.10, 0.30), 5: (0.10, 0.20, 0.30, 0.40)}


def _vulnerability(
    criterion: Criterion, candidate: CandidateEvidence, everyone: Sequence[CandidateEvidence]
) -> EvidenceValue | None:
    shares = {
        name: share for name in ("repeat_share", "high_risk_share") if (share := _share(candidate, name)) is not None
    }
    if not shares:
        return None
    name, signal = max(shares.items(), key=lambda item: item[1])
    index = sum(1 for t in _VULNERABILITY_THRESHOLDS[len(criterion.scale)] if signal >= t)
    level, label = _level(criterion, index)
    ids = candidate.ids_for(*shares)
    words = {"repeat_share": "repeat victims", "high_risk_share": "high-risk cases"}
    parts = ", ".join(f"{words[n]} {s:.1%}" for n, s in shares.items())
    return EvidenceValue(
        value=signal,
        score_input=level,
        finding_ids=ids,
        explanation=f"The higher of the vulnerability shares ({parts}) is {words[name]} at {signal:.1%}, so "
        f"{criterion.label} is {level} ({label})." + _cite(ids),
    )


RULES: dict[str, Rule] = {
    "volume_percentile": _percentile_rule("rate", lambda v: f"A rate of {v:.2f} per 1,000 residents"),
    "harm_percentile": _percentile_rule("harm_rate", lambda v: f"A harm rate of {v:.1f} days per 1,000 residents"),
    "likelihood_from_volume": _percentile_rule("count", lambda v: f"A count of {v:,.0f} in 12 months"),
    "trend_significance": _trend,
    "public_concern_share": _public_concern,
    "vulnerability": _vulnerability,
}


def build_inputs(
    matrix: Matrix, evidence: Sequence[CandidateEvidence], judgements: JudgementStore | None = None
) -> list[CandidateInputs]:
    """Turn each candidate's evidence and the panel's judgements into the inputs :func:`score` takes.

    Percentile rules compare each candidate with all candidates in ``evidence``, so pass the full list.

    Args:
        matrix: The matrix to fill.
        evidence: One entry per candidate issue.
        judgements: The panel's judgements for this matrix (None: no judgements recorded yet).

    Raises:
        AnalysisError: Two candidates share a key, or the judgement store belongs to another matrix.
    """
    keys = [c.key for c in evidence]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise AnalysisError(f"candidate '{key}' is listed twice in the evidence")
    if judgements is not None and judgements.matrix.name != matrix.name:
        raise AnalysisError(f"the judgements are for matrix '{judgements.matrix.name}', not '{matrix.name}'")
    inputs = []
    for candidate in evidence:
        values: dict[str, EvidenceValue] = {}
        for criterion in matrix.criteria:
            if criterion.kind == "evidence" and criterion.rule is not None:
                value = RULES[criterion.rule](criterion, candidate, evidence)
                if value is not None:
                    values[criterion.key] = value
        inputs.append(
            CandidateInputs(
                key=candidate.key,
                label=candidate.label,
                evidence=values,
                judgements=judgements.for_candidate(candidate.key) if judgements is not None else {},
                overrides=list(candidate.overrides),
            )
        )
    return inputs
