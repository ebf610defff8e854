"""The probability functions the findings use, computed with ``scipy.special``.

``scipy.stats`` gives the same values, but importing it takes about 0.4 s (a third of what `cspkit findings` may
spend, issue 11) and each call checks and broadcasts its arguments in Python, while one run of the findings makes
thousands of calls. So the findings call the special functions that ``scipy.stats`` itself wraps
(``bdtr``, ``stdtr``, ``betaincinv``...), and the few exact tests and intervals they need are written out here
from their definitions, each naming the ``scipy.stats`` call it reproduces.
``tests/findings/test_distributions.py`` checks every one against ``scipy.stats`` over grids of arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

__all__ = [
    "betabinom_lower",
    "betabinom_upper",
    "binom_lower",
    "binom_two_sided_p",
    "binom_upper",
    "chi2_contingency",
    "chi2_sf",
    "clopper_pearson",
    "fisher_exact_p",
    "norm_ppf",
    "norm_sf",
    "t_ppf",
    "t_sf",
    "wilcoxon_signed_rank_p",
    "wilson",
]

#: Relative tolerance with which two probabilities count as equal in the exact two-sided tests (as in scipy's
#: ``binomtest`` and R's ``binom.test``/``fisher.test``): without it, rounding decides ties.
_TIE = 1 + 1e-7


def norm_ppf(q: float) -> float:
    """``scipy.stats.norm.ppf(q)``."""
    return float(special.ndtri(q))


def norm_sf(z: float) -> float:
    """``scipy.stats.norm.sf(z)``."""
    return float(special.ndtr(-z))


def t_sf(t: float, df: float) -> float:
    """``scipy.stats.t.sf(t, df)``."""
    return float(special.stdtr(df, -t))


def t_ppf(q: float, df: float) -> float:
    """``scipy.stats.t.ppf(q, df)``."""
    return float(special.stdtrit(df, q))


def chi2_sf(x: float, df: float) -> float:
    """``scipy.stats.chi2.sf(x, df)``."""
    return float(special.chdtrc(df, x))


def binom_upper(x: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """P(X >= x) for X ~ Binomial(n, p), element-wise: ``scipy.stats.binom.sf(x - 1, n, p)``."""
    x, n = np.asarray(x, dtype=np.int64), np.asarray(n, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        inside = special.bdtrc(np.clip(x - 1, 0, None), n, p)
    return np.where(x <= 0, 1.0, np.where(x > n, 0.0, inside))


def binom_lower(x: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """P(X <= x) for X ~ Binomial(n, p), element-wise: ``scipy.stats.binom.cdf(x, n, p)``."""
    x, n = np.asarray(x, dtype=np.int64), np.asarray(n, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        inside = special.bdtr(np.clip(x, 0, None), n, p)
    return np.where(x < 0, 0.0, np.where(x >= n, 1.0, inside))


def _binom_log_pmf(x: np.ndarray, n: int, p: float) -> np.ndarray:
    return (
        special.gammaln(n + 1)
        - special.gammaln(x + 1)
        - special.gammaln(n - x + 1)
        + special.xlogy(x, p)
        + special.xlog1py(n - x, -p)
    )


def binom_two_sided_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial test: ``scipy.stats.binomtest(k, n, p).pvalue``.

    The p-value is the probability of every outcome no more likely than ``k`` (the "minimum likelihood" rule
    of Clopper and Pearson, scipy and R), with ties judged to a relative ``1e-7``.
    """
    if n == 0 or p in (0.0, 1.0):
        return 1.0
    log_pmf = _binom_log_pmf(np.arange(n + 1, dtype=float), n, p)
    at_k = log_pmf[k]
    return float(min(1.0, np.exp(log_pmf[log_pmf <= at_k + math.log(_TIE)]).sum()))


def clopper_pearson(k: int, n: int, level: float) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a share: ``binomtest(k, n).proportion_ci(level, method="exact")``."""
    alpha = (1 - level) / 2
    low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha))
    high = 1.0 if k == n else float(special.betainccinv(k + 1, n - k, alpha))
    return low, high


def wilson(k: int, n: int, level: float) -> tuple[float, float]:
    """Wilson score interval for a share, no continuity correction: ``proportion_ci(level, method="wilson")``.

    Newcombe (1998), method 3, as scipy computes it.
    """
    p = k / n
    z = float(special.ndtri(0.5 + level / 2))
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    return (0.0 if k == 0 else center - delta), (1.0 if k == n else center + delta)


def _tail_sums(log_terms: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of ``exp(log_terms)`` over consecutive segments beginning at ``starts`` (all segments non-empty)."""
    return np.add.reduceat(np.exp(log_terms), starts) if len(starts) else np.zeros(0)


def _betabinom_tail(x: np.ndarray, n: np.ndarray, a: float, b: float, *, upper: bool) -> np.ndarray:
    """P(X >= x) or P(X <= x) for X ~ BetaBinomial(n, a, b), element-wise, by summing the tail's own terms.

    Summing the tail itself (not one minus the other tail) keeps small p-values exact to the last digit; all
    tails are summed in one vectorised pass (``scipy.stats.betabinom`` sums each element in a Python loop).
    """
    x = np.asarray(x, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    if upper:  # the terms x..n; certain below 1, impossible above n
        out = np.where(x <= 0, 1.0, 0.0)
        todo = np.flatnonzero((x > 0) & (x <= n))
        first, last = x, n
    else:  # the terms 0..x; impossible below 0, certain from n
        out = np.where(x >= n, 1.0, 0.0)
        todo = np.flatnonzero((x >= 0) & (x < n))
        first, last = np.zeros_like(x), x
    if len(todo) == 0:
        return out
    lengths = last[todo] - first[todo] + 1
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    owner = np.repeat(np.arange(len(todo)), lengths)
    k = (np.arange(lengths.sum()) - starts[owner] + first[todo][owner]).astype(float)
    size = n[todo][owner].astype(float)
    log_terms = (
        special.gammaln(size + 1)
        - special.gammaln(k + 1)
        - special.gammaln(size - k + 1)
        + special.betaln(k + a, size - k + b)
        - special.betaln(a, b)
    )
    out[todo] = np.minimum(1.0, _tail_sums(log_terms, starts))
    return out


def betabinom_upper(x: np.ndarray, n: np.ndarray, a: float, b: float) -> np.ndarray:
    """P(X >= x) for X ~ BetaBinomial(n, a, b), element-wise: ``scipy.stats.betabinom.sf(x - 1, n, a, b)``."""
    return _betabinom_tail(np.asarray(x), np.asarray(n), a, b, upper=True)


def betabinom_lower(x: np.ndarray, n: np.ndarray, a: float, b: float) -> np.ndarray:
    """P(X <= x) for X ~ BetaBinomial(n, a, b), element-wise: ``scipy.stats.betabinom.cdf(x, n, a, b)``."""
    return _betabinom_tail(np.asarray(x), np.asarray(n), a, b, upper=False)


def fisher_exact_p(table: Sequence[Sequence[int]] | np.ndarray) -> float:
    """Two-sided Fisher's exact test of a 2x2 table: ``scipy.stats.fisher_exact(table).pvalue``.

    Conditional on the margins the top-left cell is hypergeometric; the p-value is the probability of every
    table no more likely than the one observed (ties to a relative ``1e-7``).
    """
    c = np.asarray(table, dtype=np.int64)
    if c.shape != (2, 2) or (c < 0).any():
        raise ValueError("Fisher's exact test here takes a 2x2 table of non-negative counts")
    if 0 in c.sum(axis=0) or 0 in c.sum(axis=1):
        return 1.0
    row1, row2, col1 = int(c[0].sum()), int(c[1].sum()), int(c[:, 0].sum())
    support = np.arange(max(0, col1 - row2), min(col1, row1) + 1, dtype=float)

    def log_choose(m: float, j: np.ndarray) -> np.ndarray:
        return special.gammaln(m + 1) - special.gammaln(j + 1) - special.gammaln(m - j + 1)

    log_pmf = log_choose(row1, support) + log_choose(row2, col1 - support) - log_choose(row1 + row2, np.array(col1))
    at = log_pmf[int(c[0, 0] - support[0])]
    return float(min(1.0, np.exp(log_pmf[log_pmf <= at + math.log(_TIE)]).sum()))


def chi2_contingency(table: Sequence[Sequence[float]] | np.ndarray) -> tuple[float, float, int]:
    """Pearson's chi-square test of independence: ``scipy.stats.chi2_contingency(table)[:3]``.

    As scipy (and R's ``chisq.test``) does, a table with one degree of freedom gets Yates' continuity
    correction: each ``|observed - expected|`` is reduced by 0.5 (at most to 0).
    """
    observed = np.asarray(table, dtype=float)
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    if (expected == 0).any():
        raise ValueError("a row or column of the table is all zeros")
    dof = int(observed.size - sum(observed.shape) + observed.ndim - 1)
    if dof == 0:
        return 0.0, 1.0, 0
    diff = observed - expected
    if dof == 1:
        diff = diff - np.sign(diff) * np.minimum(0.5, np.abs(diff))
    statistic = float((diff**2 / expected).sum())
    return statistic, chi2_sf(statistic, dof), dof


def _signed_rank_sum_pmf(doubled_ranks: np.ndarray) -> np.ndarray:
    """Distribution of the sum of a random half of the ranks (each in or out with probability 1/2), by the sum.

    Ranks are given doubled so that average ranks of ties (halves) are whole numbers; index ``s`` of the result is
    the probability that the doubled sum is ``s``.
    """
    counts = np.zeros(int(doubled_ranks.sum()) + 1)
    counts[0] = 1.0
    for r in doubled_ranks.astype(int):
        counts[r:] = counts[r:] + counts[:-r]  # every sum so far, with and without this rank
    return counts / 2.0 ** len(doubled_ranks)


def wilcoxon_signed_rank_p(before: np.ndarray, after: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank test of paired values, zero differences dropped (Wilcoxon's method).

    ``scipy.stats.wilcoxon(after, before, zero_method="wilcox").pvalue`` with its default ``method="auto"``: the
    exact distribution of the positive rank sum for up to 50 pairs without ties or zero differences; for up to 13
    pairs with them, the exact distribution of all sign flips of the ranks held (the permutation test that scipy
    runs); otherwise the normal approximation with the tie correction of the variance and no continuity
    correction.
    """
    d = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    nonzero = d[d != 0]
    if len(nonzero) == 0:
        return 1.0
    _, inverse, tie_sizes = np.unique(np.abs(nonzero), return_inverse=True, return_counts=True)
    first_rank = np.cumsum(tie_sizes) - tie_sizes + 1
    ranks = (first_rank + (tie_sizes - 1) / 2.0)[inverse]
    r_plus = float(ranks[nonzero > 0].sum())
    has_ties, has_zeros = bool((tie_sizes > 1).any()), len(nonzero) < len(d)
    if len(d) <= 50 and (not (has_ties or has_zeros) or len(d) <= 13):
        pmf = _signed_rank_sum_pmf(2 * ranks)
        at = round(2 * r_plus)
        return float(min(1.0, 2 * min(pmf[at:].sum(), pmf[: at + 1].sum())))
    n = len(nonzero)
    mean = n * (n + 1) / 4
    se = math.sqrt((n * (n + 1) * (2 * n + 1) - float((tie_sizes**3 - tie_sizes).sum()) / 2) / 24)
    return float(min(1.0, 2 * norm_sf(abs(r_plus - mean) / se)))
