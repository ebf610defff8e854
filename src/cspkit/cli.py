"""The ``cspkit`` command line: parse, call the stage that owns the work, print with rich.

Every command works inside a workspace or with ``--workspace DIR``. Errors a user can cause print one clear line
and exit with status 1; nothing prints a traceback unless ``CSPKIT_DEBUG=1`` is set.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cspkit.errors import AnalysisError, CspkitError, WorkspaceError
from cspkit.workspace import Workspace, find_workspace, init_workspace


def _version(value: bool) -> None:
    if value:
        from cspkit import __version__

        sys.stdout.write(f"cspkit {__version__}\n")
        raise typer.Exit()


app = typer.Typer(
    name="cspkit",
    help="Community Safety Partnership strategic assessments from partner data: reproducible, honest, private.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Community Safety Partnership strategic assessments from partner data: reproducible, honest, private."""


export_app = typer.Typer(help="Export the warehouse for other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")

# Piped output (tests, logs) gets a wide console so tables stay readable.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: the current folder or a parent)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def friendly_errors(func: F) -> F:
    """Turn cspkit errors into one red line and exit status 1; hide unexpected tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CspkitError as exc:
            err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("CSPKIT_DEBUG"):
                raise
            # The message of an unexpected error could quote data, so only its type is shown.
            err_console.print(
                f"[bold red]Unexpected error[/] ({type(exc).__name__}). Nothing half-written was kept. "
                "Run again with CSPKIT_DEBUG=1 to see the details, and report it if it persists.",
                highlight=False,
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _workspace(path: Path | None) -> Workspace:
    return find_workspace(path)


def _warn_key_permissions(ws: Workspace) -> None:
    from cspkit.privacy.keys import key_permissions_ok

    if ws.key_path.exists() and not key_permissions_ok(ws.key_path):
        err_console.print(
            f"[bold yellow]Warning:[/] the key file {ws.key_path} can be read by other users; "
            f"restrict it with: chmod 600 {ws.key_path}",
            highlight=False,
        )


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@app.command()
@friendly_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    name: Annotated[str, typer.Option("--name", help='Partnership name, e.g. "Central Bedfordshire CSP".')],
    area: Annotated[
        list[str], typer.Option("--area", help="ONS local authority code (repeat for a multi-authority CSP).")
    ],
    marking: Annotated[str | None, typer.Option("--marking", help="Protective marking for restricted outputs.")] = None,
) -> None:
    """Create a workspace: settings, warehouse (with national geography and population) and a private key."""
    with console.status("Creating the workspace and loading the national geography and population..."):
        ws = init_workspace(directory, name=name, area_codes=list(area), marking=marking)
    console.print(f"Created workspace [bold]{ws.root}[/]")
    console.print(f"  settings   {ws.config_path}")
    console.print(f"  warehouse  {ws.warehouse_path}")
    console.print(f"  key        {ws.key_path}  [yellow](owner-only; back it up safely: losing it breaks linkage)[/]")


@app.command()
@friendly_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or zip archives to load.")],
    source: Annotated[str | None, typer.Option("--source", help="Source name (default: detected).")] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="Agency that supplied the files.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Excel sheet to read (default: first).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Load files into the warehouse: validate every row, pseudonymise identifiers, keep rejects with reasons."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cspkit.ingest import ingest_paths

    ws = _workspace(workspace)
    if source:
        from cspkit.sources import get_contract

        get_contract(source)
    con = ws.connect()
    try:
        _warn_key_permissions(ws)
        mismatch = ws.check_key(con)
        if mismatch:  # pseudonyms made with two keys never mix in one warehouse (docs/privacy.md)
            raise WorkspaceError(mismatch + " Nothing was loaded.")
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task("Loading", total=None)

            def on_file(name: str) -> None:
                progress.update(task, description=f"Loading {Path(name.split(':')[-1]).name}", advance=1)

            report = ingest_paths(con, paths, key=ws.key(), source=source, agency=agency, sheet=sheet, on_file=on_file)
        population_warnings = _population_warnings(con, ws, report)
    finally:
        con.close()
    for warning in population_warnings:
        err_console.print(f"[bold yellow]Warning:[/] {warning}", highlight=False)
    if as_json:
        _print_json(
            {
                "loaded": [r.to_dict() for r in report.loaded],
                "skipped": [s.__dict__ for s in report.skipped],
                "errors": [e.__dict__ for e in report.errors],
                "warnings": population_warnings,
            }
        )
    else:
        _print_ingest(report)
    for r in report.nothing_accepted:
        err_console.print(
            f"[bold red]Error:[/] {r.display}: every one of its {r.rows_read:,} rows was rejected; see them with "
            "`cspkit rejects`.",
            highlight=False,
            soft_wrap=True,
        )
    if report.errors or report.nothing_accepted:
        raise typer.Exit(1)
    if not report.loaded:
        err_console.print("[bold red]Error:[/] no data file was found to load (CSV, XLSX or Parquet).", highlight=False)
        raise typer.Exit(1)


def _column_notes(r: Any) -> list[str]:
    """What a file's header and codes said beyond its rows: columns not loaded, names written twice, codes not in
    the lookup (the header is a real header here: its required columns matched)."""
    out = []
    ignored = getattr(r, "ignored_columns", [])
    if ignored:
        shown = ", ".join(ignored[:8]) + (f" and {len(ignored) - 8:,} more" if len(ignored) > 8 else "")
        out.append(f"columns not in the contract, not loaded: {shown}")
    duplicated = getattr(r, "duplicated_columns", [])
    if duplicated:
        out.append("columns named twice (the first is read): " + ", ".join(duplicated[:8]))
    for column, (rows, examples) in getattr(r, "unknown_codes", {}).items():
        out.append(f"{column}: {rows:,} row(s) with codes not in the lookup (e.g. {', '.join(examples)})")
    for column, rows in getattr(r, "unmapped_labels", {}).items():
        out.append(f"{column}: {rows:,} label(s) not in the vocabulary, stored as Other (map them with a label_map)")
    return out


def _population_warnings(con: Any, ws: Any, report: Any) -> list[str]:
    """Population files just loaded that the findings cannot use for this area (another area, partial cover)."""
    ids = [r.file_id for r in report.loaded if r.source == "population" and r.file_id is not None]
    if not ids:
        return []
    from cspkit.findings.area import population_load_warnings

    try:
        return population_load_warnings(con, ws.config().area_codes, ids)
    except CspkitError as exc:  # no geography for the area yet: say so, the load itself stands
        return [str(exc)]


def _print_ingest(report: Any) -> None:
    table = Table(title="Ingest", show_lines=False)
    for col in ("file", "source", "agency", "read", "accepted", "rejected", "months"):
        table.add_column(col, justify="right" if col in ("read", "accepted", "rejected") else "left")
    notes_by_file: list[str] = []
    for r in report.loaded:
        months = f"{r.months[0]}..{r.months[-1]}" if len(r.months) > 1 else (r.months[0] if r.months else "")
        notes = []
        if r.status == "unchanged":
            notes.append("already loaded: no change")
        if r.rows_replaced:
            notes.append(f"replaced {r.rows_replaced:,} rows")
        if r.aliases_applied:
            notes.append("columns mapped: " + ", ".join(f"{k} -> {v}" for k, v in r.aliases_applied.items()))
        if r.encoding != "utf-8":
            notes.append(f"read as {r.encoding}")
        if r.rejects_by_reason:
            notes.append("rejects: " + ", ".join(f"{k} {v}" for k, v in r.rejects_by_reason.items()))
        notes += _column_notes(r)
        table.add_row(
            Path(r.display.split(":")[-1]).name,
            r.source,
            r.agency,
            f"{r.rows_read:,}",
            f"{r.rows_accepted:,}",
            f"{r.rows_rejected:,}",
            months,
        )
        if notes:
            notes_by_file.append(f"{Path(r.display.split(':')[-1]).name}: " + "; ".join(notes))
    if report.loaded:
        console.print(table)
        total_read = sum(r.rows_read for r in report.loaded)
        total_acc = sum(r.rows_accepted for r in report.loaded)
        total_rej = sum(r.rows_rejected for r in report.loaded)
        console.print(
            f"{len(report.loaded)} file(s): {total_read:,} rows read = {total_acc:,} accepted + {total_rej:,} rejected."
        )
    for line in notes_by_file:
        console.print(f"  {line}", highlight=False)
    for s in report.skipped:
        console.print(f"[dim]Skipped {s.display}: {s.reason}.[/]")
    for e in report.errors:
        err_console.print(f"[bold red]Refused:[/] {e.message}", highlight=False, soft_wrap=True)
    if any(r.rows_rejected for r in report.loaded):
        console.print("See the rejected rows with: cspkit rejects")


@app.command()
@friendly_errors
def status(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """What is loaded, per source and agency: files, rows, months covered, gaps, rejects, last load."""
    from cspkit.warehouse.status import status as load_status

    ws = _workspace(workspace)
    cfg = ws.config()
    _warn_key_permissions(ws)
    with ws.connect(read_only=True) as con:
        entries = load_status(con)
    if as_json:
        _print_json(
            {
                "workspace": str(ws.root),
                "partnership": cfg.name,
                "areas": cfg.area_codes,
                "sources": [e.to_dict() for e in entries],
            }
        )
        return
    console.print(f"[bold]{cfg.name}[/] ({', '.join(cfg.area_codes)}) — {ws.root}")
    table = Table()
    for col in ("source", "agency", "files", "rows", "months", "gaps", "rejected", "last load"):
        table.add_column(col, justify="right" if col in ("files", "rows", "rejected") else "left")
    for e in entries:
        months = f"{e.first_month}..{e.last_month} ({e.months})" if e.first_month else "-"
        gaps = ", ".join(e.gaps[:4]) + (" ..." if len(e.gaps) > 4 else "") if e.gaps else "none"
        rejected = f"{e.rows_rejected:,}"
        if e.rejects_by_reason:
            rejected += " (" + ", ".join(f"{k} {v}" for k, v in e.rejects_by_reason.items()) + ")"
        table.add_row(e.source, e.agency, str(e.files), f"{e.rows:,}", months, gaps, rejected, e.last_loaded or "")
    console.print(table)


@app.command()
@friendly_errors
def rejects(
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (0 = all).")] = 200,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The rejected rows: file, line, column and reason (personal values masked)."""
    from cspkit.warehouse.status import rejects as load_rejects

    ws = _workspace(workspace)
    with ws.connect(read_only=True) as con:
        rows = load_rejects(con, source, limit or None)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        console.print("No rejected rows.")
        return
    table = Table(title="Rejected rows")
    for col in ("file", "line", "column", "reason", "message"):
        table.add_column(col)
    for r in rows:
        table.add_row(Path(str(r["file"]).split(":")[-1]).name, str(r["line"]), r["column"], r["reason"], r["message"])
    console.print(table)


@app.command()
@friendly_errors
def sources(as_json: JsonOpt = False) -> None:
    """The data contracts: columns, types, allowed values and accepted aliases."""
    from cspkit.sources.contracts import CONTRACTS
    from cspkit.sources.docs import column_rows

    if as_json:
        _print_json({name: {"title": c.title, "columns": column_rows(c)} for name, c in CONTRACTS.items()})
        return
    for name, contract in CONTRACTS.items():
        table = Table(title=f"{name}: {contract.title}", title_justify="left")
        for col in ("column", "required", "type", "allowed", "aliases"):
            table.add_column(col)
        for row in column_rows(contract):
            table.add_row(*row.values())
        console.print(table)


@export_app.command("parquet")
@friendly_errors
def export_parquet_cmd(
    directory: Annotated[Path, typer.Argument(help="Folder to write (Hive layout source=/month=).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Write every table as Parquet partitioned by source and month."""
    from cspkit.warehouse.export import export_parquet

    ws = _workspace(workspace)
    with ws.connect(read_only=True) as con:
        written = export_parquet(con, directory)
    for table, n in written.items():
        if n:
            console.print(f"{table}: {n:,} rows")
    console.print(f"Written to {directory}")


@app.command()
@friendly_errors
def synth(
    directory: Annotated[Path, typer.Argument(help="Folder to write the synthetic partner files to.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 1,
    population: Annotated[int | None, typer.Option("--population", help="Population to scale volumes to.")] = None,
    years: Annotated[int, typer.Option("--years", help="Years of data.")] = 3,
    end_month: Annotated[str, typer.Option("--end-month", help="Last month, YYYY-MM.")] = "2023-04",
    area: Annotated[str, typer.Option("--area", help="Local authority whose LSOAs are used.")] = "E06000056",
    messy: Annotated[bool, typer.Option("--messy", help="Add realistic mess: aliases, UK dates, bad rows.")] = False,
) -> None:
    """Write synthetic person-level partner files with planted, documented signals (truth.json)."""
    from cspkit.errors import ConfigError
    from cspkit.synth import generate

    with console.status("Generating synthetic partner data..."):
        try:
            summary = generate(
                directory,
                seed=seed,
                lad_code=area,
                population=population,
                years=years,
                end_month=end_month,
                messy=messy,
            )
        except ValueError as exc:  # the generator's argument checks: synthetic data, nothing personal to hide
            raise ConfigError(f"cspkit synth: {exc}") from None
    console.print(f"Wrote synthetic partner data to [bold]{directory}[/]")
    for line in _summary_lines(summary):
        console.print(f"  {line}")


def _summary_lines(summary: Any) -> list[str]:
    lines = [f"{name}: {n:,} rows" for name, n in summary.rows.items()]
    return [*lines, f"ground truth of the planted signals: {summary.truth_path}"]


def main() -> None:  # pragma: no cover - console entry point
    app()


PeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="2023-24 (financial year), 2023-24Q2 (quarter) or 2023-05..2024-04 (default: latest 12 months).",
    ),
]
CompareOpt = Annotated[
    str, typer.Option("--compare", help="previous (the equal period before) or mean_of_3 (mean of the three before).")
]


def _compute(workspace: Path | None, period: str | None, compare: str, topics: list[str] | None, **kw: Any) -> Any:
    from cspkit.findings.engine import compute_findings
    from cspkit.topics import TOPIC_BUILDERS

    ws = _workspace(workspace)
    with ws.connect(read_only=True) as con:
        return compute_findings(
            con, ws.config(), period=period, compare=compare, topics=topics, builders=TOPIC_BUILDERS, **kw
        )


@app.command()
@friendly_errors
def findings(
    period: PeriodOpt = None,
    compare: CompareOpt = "previous",
    topic: Annotated[
        list[str] | None, typer.Option("--topic", help="crime, asb, da, reoffending, sv, quality.")
    ] = None,
    area: Annotated[
        str | None, typer.Option("--area", help="Only findings for this area code (a ward code, or the partnership).")
    ] = None,
    wards: Annotated[bool, typer.Option("--wards", help="Include ward findings in the table.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The findings: levels, changes with significance tests, control-chart signals, hotspots."""
    # the table shows no forecast and no Gi* cluster (both are in --json and the report): not computed for it, so
    # the command answers at once (statsmodels, libpysal and geopandas are not even imported)
    fs = _compute(workspace, period, compare, topic, forecast=as_json, hotspot_maps=as_json)
    items = fs.findings
    if area:
        items = [f for f in items if f.area == area]
        if not items:
            raise AnalysisError(f"No finding for area {area!r}: use the partnership's code or one of its ward codes.")
    if as_json:
        data = fs.to_dict()
        data["findings"] = [f.to_dict() for f in items]
        _print_json(data)
        return
    if not (wards or area):
        items = [f for f in items if ".ward." not in f.id]
    console.print(f"[bold]{fs.area.name}[/]: {fs.period.label} compared with {fs.comparison.baseline_label}")
    for note in fs.notes:
        console.print(f"[yellow]Note:[/] {note}")
    table = Table(show_lines=False)
    for col in ("finding", "value", "baseline", "change", "p (adj.)", "verdict", "signal"):
        table.add_column(col, justify="right" if col in ("value", "baseline", "change", "p (adj.)") else "left")
    for f in items:
        c = f.change
        verdict = ""
        if c is not None and c.p_value is not None:
            verdict = {"up": "[red]significant rise[/]", "down": "[green]significant fall[/]"}.get(
                c.direction, "no significant change"
            )
            if f.good_direction == "up" and c.direction != "none":
                verdict = verdict.replace("red", "tmp").replace("green", "red").replace("tmp", "green")
        table.add_row(
            f.id,
            _fmt(f.value, f.unit),
            _fmt(f.baseline, f.unit),
            # a percentage is shown only for a significant change: a % of noise misleads
            "" if c is None or c.percent is None else (f"{c.percent:+.0f}%" if c.significant else "n.s."),
            "" if c is None or c.p_adjusted is None else f"{c.p_adjusted:.3f}",
            verdict,
            f"{f.spc.rule} ({f.spc.month})" if f.spc and f.spc.month >= fs.period.first else "",
        )
    console.print(table)
    console.print("n.s.: not statistically significant. Definitions, sentences and all detail: cspkit findings --json")


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "proportion":
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


@app.command()
@friendly_errors
def chart(
    finding_id: Annotated[str, typer.Argument(help="Finding id, e.g. crime.burglary.count")],
    out: Annotated[Path, typer.Option("--out", help="SVG (or .png) file to write.")],
    period: PeriodOpt = None,
    compare: CompareOpt = "previous",
    workspace: WorkspaceOpt = None,
) -> None:
    """Draw a finding's monthly series with its control limits and forecast."""
    from cspkit.report.figures import finding_chart

    fs = _compute(workspace, period, compare, None)
    finding = fs.require(finding_id)
    image = finding_chart(finding)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".png":
        out.write_bytes(image.png)
    else:
        out.write_text(image.svg, encoding="utf-8")
    console.print(f"Wrote {out}")


score_app = typer.Typer(help="Judgement inputs of the scoring matrix (with who, when and why).", no_args_is_help=True)
app.add_typer(score_app, name="score")
MatrixOpt = Annotated[str | None, typer.Option("--matrix", help="Preset: vthpc (default), morile, grid4x4.")]


@score_app.command("set")
@friendly_errors
def score_set(
    candidate: Annotated[str, typer.Argument(help="Candidate key, e.g. domestic_abuse, asb, burglary.")],
    criterion: Annotated[str, typer.Argument(help="Judgement criterion, e.g. partnership_value.")],
    value: Annotated[str, typer.Argument(help="A level on the criterion's scale.")],
    why: Annotated[str, typer.Option("--why", help="The justification (required).")],
    who: Annotated[str, typer.Option("--who", help="Who judged: a role or the workshop.")] = "strategy group",
    matrix: MatrixOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Record a judgement input for a candidate issue."""
    from cspkit.priorities.judgements import JudgementStore
    from cspkit.priorities.presets import matrix_for

    ws = _workspace(workspace)
    m = matrix_for(ws.config(), matrix)
    level: Any = int(value) if value.lstrip("-").isdigit() else value
    store = JudgementStore(ws.judgements_path, m)
    judgement = store.set(candidate, criterion, level, why, who)
    console.print(f"Recorded {m.name}: {candidate} / {criterion} = {judgement.value} ({who}, {judgement.when}).")


@app.command()
@friendly_errors
def priorities(
    period: PeriodOpt = None,
    matrix: MatrixOpt = None,
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs of the sensitivity analysis.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sensitivity analysis.")] = 1,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score every candidate issue with the scoring matrix and test how robust the ranking is."""
    from cspkit.findings.engine import compute_findings
    from cspkit.priorities.matrix import describe_missing
    from cspkit.priorities.run import prioritise
    from cspkit.topics import TOPIC_BUILDERS

    ws = _workspace(workspace)
    with ws.connect(read_only=True) as con:
        # no forecasts or Gi* clusters: neither scores a priority, and they cost seconds of imports and fitting
        fs = compute_findings(
            con, ws.config(), period=period, forecast=False, hotspot_maps=False, builders=TOPIC_BUILDERS
        )
        result = prioritise(con, ws, fs, matrix_name=matrix, runs=runs, seed=seed)
    if as_json:
        _print_json(result.to_dict())
        return
    console.print(f"[bold]{result.matrix.label}[/] — {fs.period.label}; harm index {result.harm_index}")
    table = Table()
    criteria = [c for c in result.matrix.criteria]
    for col in ("rank", "candidate", *(c.key for c in criteria), "total", "band", "robustness", "flags"):
        table.add_column(col)
    sens = {r.candidate: r for r in result.sensitivity.rows} if result.sensitivity else {}
    for row in result.ranking.rows:
        cells = {c.criterion: c for c in row.criteria}
        s = sens.get(row.candidate)
        table.add_row(
            str(row.rank or "-"),
            row.label,
            *(str(cells[c.key].score) if c.key in cells and cells[c.key].score is not None else "?" for c in criteria),
            f"{row.total:.2f}" if row.total is not None else "incomplete",
            row.band or "",
            f"{s.stability} ({s.share_top_n:.0%} in top {result.sensitivity.top_n})"
            if s and result.sensitivity
            else "",
            "; ".join(row.overrides),
        )
    console.print(table)
    if result.ranking.missing:
        console.print(describe_missing(result.ranking), highlight=False)
    if result.provisional is not None:  # before the workshop: a ranking on the criteria with evidence, marked so
        p = result.provisional
        console.print(
            f"[bold]PROVISIONAL ranking[/] on {', '.join(p.used)} only (weights re-normalised; missing: "
            f"{', '.join(p.missing)}):",
            highlight=False,
        )
        for row in p.ranking.rows:
            console.print(f"  {row.rank:>2}. {row.label}: {row.total:.2f} ({row.band}, provisional)", markup=False)


@app.command()
@friendly_errors
def assess(
    period: PeriodOpt = None,
    compare: CompareOpt = "previous",
    edition: Annotated[
        str, typer.Option("--edition", help="restricted (full detail) or public (small numbers suppressed).")
    ] = "restricted",
    formats: Annotated[
        str, typer.Option("--formats", help="Comma-separated: html,pdf,docx,xlsx,json.")
    ] = "html,pdf,docx,xlsx,json",
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: outputs/ in the workspace).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the Partnership Strategic Assessment: HTML, PDF, Word and the Excel data annex."""
    from cspkit.report.assess import assess as run_assess

    ws = _workspace(workspace)
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    if edition == "public" and "json" in wanted:
        err_console.print("Note: findings.json is not written for the public edition (its numbers are not suppressed).")
    with console.status("Building the assessment...") as spinner:
        result = run_assess(
            ws,
            period=period,
            compare=compare,
            edition=edition,
            formats=wanted,
            out_dir=out,
            on_step=lambda text: spinner.update(f"{text}..."),
        )
    fs = result.findings
    console.print(
        f"[bold]{result.document.title}[/] — {fs.area.name}, {fs.period.label} compared with "
        f"{fs.comparison.baseline_label} ({edition} edition, marked {result.document.marking})."
    )
    for kind, path in result.files.items():
        console.print(f"  {kind:5} {path}")
    if result.checklist_actions:  # the analyst's to-dos: here and in statutory-checklist.md, never in the document
        console.print("[bold]Still to do before the board meets[/] (statutory checklist):")
        for action in result.checklist_actions:
            console.print(f"  - {action}", markup=False)
    console.print(f"Took {sum(result.timings.values()):.1f} s.")


@app.command()
@friendly_errors
def performance(
    quarter: Annotated[str, typer.Option("--quarter", help="Financial-year quarter, e.g. 2022-23Q3.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The quarterly performance pack: local indicators against last year, with significance and RAG."""
    from cspkit.priorities.performance import performance_pack

    ws = _workspace(workspace)
    with ws.connect(read_only=True) as con:
        pack = performance_pack(con, ws.config(), quarter)
    if as_json:
        _print_json(pack.to_dict())
        return
    console.print(f"[bold]Local performance indicators, {pack.quarter.label}[/]")
    console.print(pack.quarter_note, highlight=False)
    console.print(pack.ytd_note, highlight=False)
    table = Table()
    for col in (
        "indicator",
        "quarter",
        "last year",
        "year to date",
        "last year ",
        "significance",
        "signal",
        "RAG",
        "why",
    ):
        table.add_column(
            col, justify="right" if col in ("quarter", "last year", "year to date", "last year ") else "left"
        )
    colours = {"red": "red", "amber": "yellow", "green": "green", "grey": "dim"}
    for r in pack.to_rows():
        rag = str(r["rag"])
        table.add_row(
            r["indicator"],
            _fmt(r["quarter"], r["unit"]),
            _fmt(r["quarter_last_year"], r["unit"]),
            _fmt(r["ytd"], r["unit"]),
            _fmt(r["ytd_last_year"], r["unit"]),
            r["significance"],
            r["spc_signal"],
            f"[{colours.get(rag, 'white')}]{rag.upper()}[/]",
            r["reason"],
        )
    console.print(table)
    console.print(f"Rule: {pack.rule}", highlight=False)
    for note in pack.notes:
        console.print(f"[yellow]Note:[/] {note}", highlight=False)


@app.command()
@friendly_errors
def check(period: PeriodOpt = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """The statutory checklist: which legal content of the assessment is present and which is missing."""
    from cspkit.findings.engine import compute_findings
    from cspkit.priorities.checklist import statutory_checklist
    from cspkit.priorities.run import prioritise
    from cspkit.topics import TOPIC_BUILDERS

    ws = _workspace(workspace)
    with ws.connect(read_only=True) as con:
        # no forecasts or Gi* clusters: neither scores a priority, and they cost seconds of imports and fitting
        fs = compute_findings(
            con, ws.config(), period=period, forecast=False, hotspot_maps=False, builders=TOPIC_BUILDERS
        )
        items = statutory_checklist(fs, con, prioritise(con, ws, fs, runs=200), workspace=ws)
    if as_json:
        _print_json([item.__dict__ for item in items])
        return
    colours = {"present": "green", "partial": "yellow", "missing": "red", "not applicable": "dim"}
    table = Table(title="Statutory checklist (SI 2007/1830 reg. 5; Crime and Disorder Act 1998 s.6)")
    for col in ("ref", "requirement", "status", "evidence", "to do"):
        table.add_column(col)
    for item in items:
        table.add_row(
            item.id,
            item.requirement,
            f"[{colours.get(item.status, 'white')}]{item.status}[/]",
            item.evidence,
            item.action,
        )
    console.print(table)


# ------------------------------------------------------------------------------------ web workspace (issue 13)
user_app = typer.Typer(help="Users of the web workspace (cspkit serve).", no_args_is_help=True)
app.add_typer(user_app, name="user")
audit_app = typer.Typer(help="The web workspace's audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _web_session(ws: Workspace) -> Any:
    from cspkit.web.db import make_engine, migrate, session_factory
    from cspkit.web.settings import settings_from_env

    settings = settings_from_env(ws)
    engine = make_engine(settings.database_url)
    migrate(engine)
    return settings, session_factory(engine)()


@app.command()
@friendly_errors
def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Run the partnership workspace web application (settings from CSPKIT_* variables; see docs/web.md)."""
    import uvicorn

    from cspkit.web.app import create_app
    from cspkit.web.settings import settings_from_env

    ws = _workspace(workspace)
    loopback = host in ("127.0.0.1", "localhost", "::1")
    # Plain HTTP is only acceptable on the loopback interface; anywhere else cookies are Secure unless told.
    settings = settings_from_env(ws, secure_cookies_default=not loopback)
    if host not in settings.allowed_hosts and host not in ("0.0.0.0", "::"):
        settings = type(settings)(**{**settings.__dict__, "allowed_hosts": [*settings.allowed_hosts, host]})
    application = create_app(ws, settings)
    console.print(f"Serving {ws.config().name} on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


@user_app.command("add")
@friendly_errors
def user_add(
    email: Annotated[str, typer.Argument(help="The user's e-mail address (their sign-in name).")],
    role: Annotated[str, typer.Option("--role", help="administrator, analyst, data-owner, board or public.")],
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Their organisation (required for a data owner).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (else one is made).")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a user of the web workspace; without --password-stdin a one-time password is made and printed."""
    import secrets

    from cspkit.errors import ConfigError
    from cspkit.web import audit
    from cspkit.web.security import UserError, add_user

    ws = _workspace(workspace)
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else secrets.token_urlsafe(12)
    settings, db = _web_session(ws)
    try:
        try:
            user = add_user(db, email, role, password, organisation, one_time=not password_stdin)
        except UserError as exc:
            raise ConfigError(str(exc)) from None
        audit.append(
            db,
            settings.secret_key,
            witness=settings.audit_witness,
            actor="command line",
            role="administrator",
            action="user added",
            target=user.email,
            detail=f"role {role}" + (f", organisation {organisation}" if organisation else ""),
        )
    finally:
        db.close()
    console.print(f"Added {user.email} ({role}).")
    if not password_stdin:
        console.print(f"One-time password: {password} (they choose their own at first sign-in)", highlight=False)


@audit_app.command("verify")
@friendly_errors
def audit_verify(workspace: WorkspaceOpt = None) -> None:
    """Check the audit log's hash chain; exit status 1 when an entry was edited, moved or deleted."""
    from cspkit.web import audit

    ws = _workspace(workspace)
    settings, db = _web_session(ws)
    try:
        report = audit.verify(db, settings.secret_key, settings.audit_witness)
    finally:
        db.close()
    if report.ok:
        console.print(f"The audit chain of {report.entries:,} entries is intact.")
        return
    where = f" at entry {report.first_broken}" if report.first_broken is not None else ""
    err_console.print(f"[bold red]The audit chain is broken[/]{where}: {report.reason}.", highlight=False)
    raise typer.Exit(1)


key_app = typer.Typer(
    help="Custody of the workspace key: a passphrase-protected backup, restoring it, encrypting an old warehouse.",
    no_args_is_help=True,
)
app.add_typer(key_app, name="key")
PassphraseStdinOpt = Annotated[
    bool,
    typer.Option(
        "--passphrase-stdin", help="Read the passphrase from the first line of standard input instead of a prompt."
    ),
]


def _passphrase(from_stdin: bool, *, confirm: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        passphrase = line[:-1] if line.endswith("\n") else line
        passphrase = passphrase[:-1] if passphrase.endswith("\r") else passphrase
        if not passphrase:
            raise WorkspaceError("No passphrase on standard input (--passphrase-stdin reads its first line).")
        return passphrase
    return str(typer.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm))


@key_app.command("export")
@friendly_errors
def key_export(
    file: Annotated[Path, typer.Argument(help="Backup file to write (never overwritten).")],
    passphrase_stdin: PassphraseStdinOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write a passphrase-protected backup of the workspace key (keep it apart from the workspace)."""
    from cspkit.privacy.custody import export_key

    ws = _workspace(workspace)
    key = ws.key()
    fingerprint = export_key(key, file, _passphrase(passphrase_stdin, confirm=True))
    console.print(f"Wrote the key backup {file} (key fingerprint {fingerprint}).", highlight=False)
    console.print(
        "Keep it apart from the workspace and the passphrase apart from it; docs/privacy.md says how to restore.",
        highlight=False,
    )


@key_app.command("import")
@friendly_errors
def key_import(
    file: Annotated[Path, typer.Argument(help="Backup file written by `cspkit key export`.")],
    passphrase_stdin: PassphraseStdinOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Restore the workspace key from a backup, after checking that it opens this workspace's warehouse."""
    from cspkit.privacy.custody import import_key
    from cspkit.workspace import restore_key

    ws = _workspace(workspace)
    key = import_key(file, _passphrase(passphrase_stdin, confirm=False))
    console.print(restore_key(ws, key), highlight=False)


@key_app.command("encrypt-warehouse")
@friendly_errors
def key_encrypt_warehouse(workspace: WorkspaceOpt = None) -> None:
    """Encrypt a warehouse made by a cspkit older than warehouse encryption (other commands that write do it too)."""
    from cspkit.warehouse.store import is_encrypted

    ws = _workspace(workspace)
    was_plain = is_encrypted(ws.warehouse_path) is False
    ws.connect().close()
    state = "Encrypted" if was_plain else "Already encrypted:"
    console.print(f"{state} the warehouse {ws.warehouse_path}.", highlight=False)


# --- linkage ---------------------------------------------------------------------------------------------

link_app = typer.Typer(
    help="Link the same people across partner sources (keyed features, Splink); store a person id per record.",
    invoke_without_command=True,
)
app.add_typer(link_app, name="link")


@link_app.callback()
@friendly_errors
def link(
    ctx: typer.Context,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="Match probability to join two records (default 0.95, or the last used)."),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb (in process) or spark (cspkit[spark]).")] = "duckdb",
    retrain: Annotated[bool, typer.Option("--retrain", help="Train the model again instead of reusing it.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train (first time), predict and cluster every person record of every loaded partner source."""
    if ctx.invoked_subcommand is not None:
        return
    from cspkit.linkage.report import print_summary
    from cspkit.linkage.run import link_people

    ws = _workspace(workspace)
    with ws.connect() as con:
        if warning := ws.check_key(con):
            err_console.print(f"[yellow]Warning:[/] {warning}", highlight=False)
        summary = link_people(
            con, ws.key(), threshold=threshold, engine=engine, retrain=retrain, charts_dir=ws.outputs / "linkage"
        )
    if as_json:
        _print_json(summary.as_dict())
        return
    print_summary(console, summary)


@link_app.command("evaluate")
@friendly_errors
def link_evaluate(
    truth: Annotated[Path, typer.Argument(help="TRUTH.csv: source,record_ref,role,person_label.")],
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Score a baseline instead: exact (same full name and date of birth)."),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the stored linkage against a clerically reviewed sample: pairwise precision, recall and F1."""
    from cspkit.linkage.evaluate import evaluate, evaluate_asb_duplicates, read_asb_copies, read_truth
    from cspkit.linkage.report import print_asb_duplicates, print_evaluation

    ws = _workspace(workspace)
    rows = read_truth(truth)
    copies = read_asb_copies(truth) if baseline is None else {}
    with ws.connect() as con:
        result = evaluate(con, ws.key(), rows, baseline=baseline)
        duplicates = evaluate_asb_duplicates(con, ws.key(), copies) if copies else None
    if as_json:
        _print_json(result.as_dict())
        return
    print_evaluation(console, result)
    if duplicates is not None:
        print_asb_duplicates(console, duplicates)
