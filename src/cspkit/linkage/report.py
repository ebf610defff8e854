"""Console output of ``cspkit link`` and ``cspkit link evaluate`` (the CLI stays thin)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cspkit.linkage.duplicates import ASB_DUPLICATE_DAYS
from cspkit.linkage.evaluate import AsbDuplicateScore, Evaluation
from cspkit.linkage.run import LinkSummary

__all__ = ["print_evaluation", "print_summary"]


def print_summary(console: Console, summary: LinkSummary) -> None:
    """Records, people, pairs, people by combination of services, training and the charts written."""
    if summary.new_linkage:
        console.print(f"[yellow]New linkage[/] ({summary.new_linkage}).")
    model = "trained" if summary.trained else "reused the stored model (no retraining; --retrain to train again)"
    console.print(
        f"Linked {summary.records:,} person records into {summary.people:,} people "
        f"({summary.pairs:,} matching pairs at p >= {summary.threshold:g}, engine {summary.engine}; model {model})."
    )
    if not summary.new_linkage:
        console.print(f"{summary.kept_ids:,} people kept their person id from the previous run.")
    table = Table(title="Person records by source and role")
    table.add_column("source/role")
    table.add_column("records", justify="right")
    for role, n in summary.records_by_role.items():
        table.add_row(role, f"{n:,}")
    console.print(table)
    combos = Table(title="People by the combination of services that know them")
    combos.add_column("services")
    combos.add_column("people", justify="right")
    for combination, n in summary.people_by_combination.items():
        combos.add_row(combination, f"{n:,}")
    console.print(combos)
    diag = summary.diagnostics
    if "em_sessions" in diag:
        rules = "; ".join(s["blocking_rule"] for s in diag["em_sessions"])
        console.print(
            f"Training: u by random sampling; m by EM on {len(diag['em_sessions'])} blocking rules ({rules})."
        )
    prior = diag.get("probability_two_random_records_match")
    if prior:
        console.print(f"Prior probability that two random records match: {prior:.2e}.")
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items())
    console.print(f"Time: {seconds}.")
    for chart in summary.charts:
        if chart.endswith(".png"):
            console.print(f"Chart: {chart}")


def print_evaluation(console: Console, result: Evaluation) -> None:
    """Pairwise precision, recall and F1 with their bases."""
    table = Table(title="Linkage against the reviewed sample (pairwise)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in (
        ("precision", f"{result.precision:.4f}"),
        ("recall", f"{result.recall:.4f}"),
        ("F1", f"{result.f1:.4f}"),
        ("true pairs", f"{result.true_pairs:,}"),
        ("predicted pairs", f"{result.predicted_pairs:,}"),
        ("true positive pairs", f"{result.true_positive_pairs:,}"),
        ("records", f"{result.records:,}"),
        ("true people", f"{result.true_people:,}"),
        ("predicted people", f"{result.predicted_people:,}"),
    ):
        table.add_row(label, value)
    console.print(table)
    if result.not_found:
        console.print(
            f"[yellow]{result.not_found:,} sample rows matched no linked record[/] (not loaded, or no identity)."
        )


def print_asb_duplicates(console: Console, score: AsbDuplicateScore) -> None:
    """How many of the planted partner copies of police ASB incidents linkage found, and how many it found wrongly."""
    console.print(
        f"ASB incidents copied by a partner under its own reference: {score.planted:,} in the sample; linkage found "
        f"{score.found:,}, {score.correct:,} of them right (precision {score.precision:.3f}, recall "
        f"{score.recall:.3f}; same victim, LSOA and within {ASB_DUPLICATE_DAYS} days)."
    )
