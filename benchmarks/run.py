"""`make bench`: cspkit's performance measured as ratios against a baseline taken in the same run.

Every measured piece of work runs in its own child process (this script re-invoked with ``--child``), so that the
parent can read that child's peak resident memory from ``os.wait4`` and the work starts from a cold interpreter.
Results are printed as a table and written to ``benchmarks/out/results.json``. The exit code is 0 even when a
target is missed: this is a measurement, not a test; a miss is printed as FAIL.

To add a benchmark, write ``def bench_NAME(opts: Options) -> BenchResult`` and register it in ``BENCHMARKS``;
work that must be measured in isolation goes in a child task registered in ``CHILD_TASKS``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
POLICE_ZIP = REPO / "demo" / "police" / "bedfordshire-2021-05_2023-04.zip"

DEFAULT_ROWS = 5_000_000
GENERATOR_VERSION = 1  # bump when the generated file changes, so cached copies are rebuilt
FIRST_MONTH = "2015-01-01"
N_MONTHS = 100  # 2015-01 .. 2023-04

TARGET_RATIO_TO_CREATE_TABLE = 1.5  # issue 11: at most 1.5x DuckDB copying the file into a table on disk as text
TARGET_INGEST_PEAK_BYTES = 1e9  # issue 11: 1 GB (decimal)
TARGET_PEAK_BYTES = 1.5e9  # 1.5 GB (decimal), the report

STREET_HEADER = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)


# --------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Check:
    """One target: a measured value compared with a limit."""

    name: str
    value: float
    limit: float
    higher_is_better: bool
    unit: str

    @property
    def passed(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value < self.limit

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "verdict": "PASS" if self.passed else "FAIL"}


@dataclass
class BenchResult:
    """What one benchmark measured: named measurements, targets, and free-form details."""

    name: str
    measurements: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measurements": self.measurements,
            "checks": [c.to_dict() for c in self.checks],
            "details": self.details,
        }


@dataclass(frozen=True)
class Options:
    rows: int


# --------------------------------------------------------------------------------------------------------------
# Child processes: run one task, report its own timings as JSON on stdout; the parent adds peak memory.


@dataclass(frozen=True)
class ChildRun:
    """A finished child: its JSON payload, wall time seen by the parent and peak resident memory."""

    payload: dict[str, Any]
    process_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int


def run_child(task: str, args: dict[str, Any]) -> ChildRun:
    """Run ``task`` in a fresh interpreter and measure it (peak RSS from ``os.wait4`` of that child only)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", task, json.dumps(args)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting again
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {task!r} failed with exit code {proc.returncode}")
    payload = json.loads(out.strip().splitlines()[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(payload, elapsed, cpu, int(usage.ru_maxrss) * 1024)  # Linux reports kilobytes


def child_count(args: dict[str, Any]) -> dict[str, Any]:
    """Baseline 1: ``SELECT count(*) FROM read_csv(file)`` in a fresh in-memory DuckDB."""
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    rows = con.sql(f"SELECT count(*) FROM read_csv({_sql_str(args['file'])})").fetchall()[0][0]
    return {"seconds": time.perf_counter() - start, "rows": int(rows)}


def child_ctas(args: dict[str, Any]) -> dict[str, Any]:
    """Baseline 2: the file copied as text into a table of a fresh DuckDB file on disk (closed, so persisted)."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="cspkit-bench-", dir=args.get("tmp")) as tmp:
        start = time.perf_counter()
        con = duckdb.connect(str(Path(tmp) / "baseline.duckdb"))
        con.execute(f"CREATE TABLE t AS FROM read_csv({_sql_str(args['file'])}, all_varchar = true)")
        rows = con.sql("SELECT count(*) FROM t").fetchall()[0][0]
        con.close()
        return {"seconds": time.perf_counter() - start, "rows": int(rows)}


class TimedConnection:
    """A DuckDB connection that records how long each ``execute`` takes (cspkit's loader uses only execute)."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.log: list[dict[str, Any]] = []

    def execute(self, sql: str, params: Any = None) -> Any:
        start = time.perf_counter()
        result = self._con.execute(sql, params) if params is not None else self._con.execute(sql)
        self.log.append({"sql": sql, "seconds": time.perf_counter() - start})
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _statement_label(sql: str) -> str:
    words = " ".join(sql.split()).split(" ")
    head = " ".join(words[:4]) if words[0].upper() in ("CREATE", "INSERT", "DELETE", "UPDATE") else " ".join(words[:3])
    return head[:60]


def _steps(log: list[dict[str, Any]], timers: dict[str, float], total: float) -> list[dict[str, Any]]:
    """Time per SQL statement kind and per timed Python helper, largest first, plus what is left over."""
    by_label: dict[str, float] = {}
    for entry in log:
        label = "SQL " + _statement_label(entry["sql"])
        by_label[label] = by_label.get(label, 0.0) + entry["seconds"]
    for name, seconds in timers.items():
        by_label["Python " + name] = seconds
    by_label["other (Python, not timed above)"] = total - sum(by_label.values())
    return [{"step": k, "seconds": round(v, 3)} for k, v in sorted(by_label.items(), key=lambda kv: -kv[1])]


def _time_function(module: Any, name: str, timers: dict[str, float]) -> None:
    """Replace ``module.name`` by a wrapper that adds its run time to ``timers[name]``."""
    original = getattr(module, name)

    def wrapper(*a: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            timers[name] = timers.get(name, 0.0) + time.perf_counter() - start

    setattr(module, name, wrapper)


def child_cspkit_ingest(args: dict[str, Any]) -> dict[str, Any]:
    """cspkit: a fresh workspace, then ``ingest_paths`` of the file as ``police_street``, committed and closed."""
    from cspkit.ingest import ingest_paths, loader
    from cspkit.workspace import init_workspace

    timers: dict[str, float] = {}
    for helper in ("scan_file", "_prepare_text", "_columns_struct", "_record_starts"):
        _time_function(loader, helper, timers)
    with tempfile.TemporaryDirectory(prefix="cspkit-bench-", dir=args.get("tmp")) as tmp:
        start = time.perf_counter()
        ws = init_workspace(Path(tmp) / "ws", name="Benchmark CSP", area_codes=["E06000056"])
        init_seconds = time.perf_counter() - start
        key = ws.key()
        start = time.perf_counter()
        con = TimedConnection(ws.connect())
        report = ingest_paths(con, [Path(args["file"])], key=key, source="police_street")  # type: ignore[arg-type]
        con.close()
        seconds = time.perf_counter() - start
        warehouse_bytes = ws.warehouse_path.stat().st_size
    if not report.ok or len(report.loaded) != 1:
        raise RuntimeError(f"ingest failed: {report.errors}")
    loaded = report.loaded[0]
    slowest = sorted(con.log, key=lambda e: -e["seconds"])[:3]
    return {
        "seconds": seconds,
        "init_seconds": init_seconds,
        "rows": loaded.rows_read,
        "rows_accepted": loaded.rows_accepted,
        "rows_rejected": loaded.rows_rejected,
        "rejects_by_reason": loaded.rejects_by_reason,
        "months": len(loaded.months),
        "warehouse_bytes": warehouse_bytes,
        "steps": _steps(con.log, timers, seconds),
        "slowest_sql": [{"seconds": round(e["seconds"], 3), "sql": e["sql"]} for e in slowest],
    }


def child_sql(args: dict[str, Any]) -> dict[str, Any]:
    """Run ``setup`` statements, then time ``sql`` in a fresh DuckDB (in memory, or the file ``db`` if given)."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="cspkit-bench-", dir=args.get("tmp")) as tmp:
        con = duckdb.connect(str(Path(tmp) / "x.duckdb") if args.get("db") else ":memory:")
        for statement in args.get("setup", []):
            con.execute(statement)
        start = time.perf_counter()
        con.execute(args["sql"]).fetchall()
        con.close()
        return {"seconds": time.perf_counter() - start, "rows": int(args["rows"])}


def child_sql_explain(args: dict[str, Any]) -> dict[str, Any]:
    """EXPLAIN ANALYZE of ``sql`` in a fresh in-memory DuckDB: the operator tree with time per operator."""
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    plan = con.execute("EXPLAIN ANALYZE " + args["sql"]).fetchall()[0][1]
    return {"seconds": time.perf_counter() - start, "rows": int(args["rows"]), "plan": plan}


def loader_plan(path: Path, only: set[tuple[str, str]] | None = None) -> Any:
    """The loader's layered SQL plan for a police street file (``cspkit.ingest.loader._plan``), narrowed to the
    (column, reason) checks ``only`` when given (the rejects pass)."""
    import datetime as dt

    from cspkit.ingest import loader
    from cspkit.sources import get_contract, match_header

    contract = get_contract("police_street")
    match = match_header(contract, list(STREET_HEADER))
    return loader._plan(contract, match, path, ",", dt.date.today(), only=only)


# --------------------------------------------------------------------------------------------------------------
# The scaled data.police.uk street file


def _shown(path: Path) -> str:
    """A path as printed: relative to the repository when inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def street_csv(rows: int) -> Path:
    """The scaled street CSV for ``rows`` rows, built once and cached under ``benchmarks/out/``."""
    target = OUT / f"street-{rows}-v{GENERATOR_VERSION}.csv"
    if target.exists():
        return target
    OUT.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    start = time.perf_counter()
    # built in a child: the parent must stay small, since a child's peak RSS starts from the parent's at fork
    run_child("build_street_csv", {"rows": rows, "target": str(partial)})
    partial.replace(target)  # atomic: an interrupted build never leaves a half file under the final name
    print(f"built {_shown(target)} ({rows:,} rows) in {time.perf_counter() - start:.1f} s")
    return target


def _extract_street_files(folder: Path) -> str:
    """Extract the bundled archive's street files; return a glob over them."""
    with zipfile.ZipFile(POLICE_ZIP) as zf:
        for name in zf.namelist():
            if name.endswith("-street.csv"):
                zf.extract(name, folder)
    return str(folder / "*" / "*-street.csv")


def child_build_street_csv(args: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cspkit-bench-src-") as tmp:
        _build_street_csv(_extract_street_files(Path(tmp)), int(args["rows"]), Path(args["target"]))
    return {}


def _build_street_csv(source_glob: str, rows: int, target: Path) -> None:
    """Repeat the real rows up to ``rows``, in month blocks over 2015-01..2023-04, with fresh unique Crime IDs.

    ASB rows (blank Crime ID in the real files) keep a blank id. Rows come out grouped by month, as in a
    concatenation of monthly files.
    """
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE base AS SELECT row_number() OVER () - 1 AS k, * "
        f"FROM read_csv({_sql_str(source_glob)}, header = true, all_varchar = true)"
    )
    n_base = con.sql("SELECT count(*) FROM base").fetchall()[0][0]
    per_month = -(-rows // N_MONTHS)
    cols = ", ".join(f'b."{c}"' for c in STREET_HEADER[2:])
    con.execute(
        f"""
        COPY (
            SELECT
                CASE WHEN b."Crime ID" IS NULL THEN NULL ELSE sha256('cspkit-bench-' || r.i) END AS "Crime ID",
                strftime(DATE '{FIRST_MONTH}' + to_months(CAST(r.i // {per_month} AS INTEGER)), '%Y-%m') AS "Month",
                {cols}
            FROM range({rows}) AS r(i) JOIN base AS b ON b.k = r.i % {n_base}
            ORDER BY r.i
        ) TO {_sql_str(str(target))} (FORMAT CSV, HEADER)
        """
    )
    con.close()


# --------------------------------------------------------------------------------------------------------------
# Benchmarks


def _measure(task: str, args: dict[str, Any]) -> dict[str, Any]:
    run = run_child(task, args)
    seconds = float(run.payload["seconds"])
    return {
        **run.payload,
        "seconds": round(seconds, 3),
        "rows_per_s": round(run.payload["rows"] / seconds) if seconds else 0,
        "process_seconds": round(run.process_seconds, 3),
        "cpu_seconds": round(run.cpu_seconds, 3),
        "peak_rss_bytes": run.peak_rss_bytes,
    }


#: Pairs of (DuckDB ``CREATE TABLE``, cspkit ingest) run one after the other; the verdict is the median pair's
#: ratio. This VM's speed drifts by 10-20% from minute to minute, and one pair can land on either side of it.
INGEST_PAIRS = 3


def bench_ingest(opts: Options) -> BenchResult:
    """Ingest of a data.police.uk street file scaled to ``opts.rows`` rows, against bare DuckDB on the same file."""
    path = street_csv(opts.rows)
    args = {"file": str(path), "tmp": str(OUT)}
    _warm_page_cache(path)
    result = BenchResult("ingest", details={"file": _shown(path), "file_bytes": path.stat().st_size})
    result.measurements["duckdb count(*)"] = count = _measure("count", args)
    pairs = []
    for _ in range(INGEST_PAIRS):
        ctas, cs = _measure("ctas", args), _measure("cspkit_ingest", args)
        pairs.append((cs["seconds"] / ctas["seconds"], ctas, cs))
    pairs.sort(key=lambda pair: pair[0])
    ratio, ctas, cs = pairs[len(pairs) // 2]
    result.measurements["duckdb CREATE TABLE (text, on disk)"] = ctas
    result.measurements["cspkit ingest"] = cs
    cs["ratio_to_count"] = round(cs["seconds"] / count["seconds"], 2)
    cs["ratio_to_create_table"] = round(ratio, 2)
    result.details["lines"] = [
        f"\n{INGEST_PAIRS} pairs (CREATE TABLE, then cspkit), the median shown above: "
        + ", ".join(f"{c['seconds']:.2f} s / {t['seconds']:.2f} s = {r:.2f}x" for r, t, c in pairs)
    ]
    result.details["ratios_to_create_table"] = [round(r, 3) for r, _, _ in pairs]
    result.details["accounting_ok"] = all(
        c["rows"] == opts.rows == c["rows_accepted"] + c["rows_rejected"] for _, _, c in pairs
    )
    result.checks = [
        Check("rows read = file rows = accepted + rejected", float(result.details["accounting_ok"]), 1, True, ""),
        Check(
            "cspkit / duckdb CREATE TABLE (median pair)",
            cs["ratio_to_create_table"],
            TARGET_RATIO_TO_CREATE_TABLE,
            False,
            "x",
        ),
        Check(
            "cspkit peak memory (largest)",
            max(c["peak_rss_bytes"] for _, _, c in pairs),
            TARGET_INGEST_PEAK_BYTES,
            False,
            "bytes",
        ),
    ]
    return result


def _warm_page_cache(path: Path) -> None:
    """Read the file once so that the first measurement does not pay for the disk and the others not."""
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def profile_variants(plan: Any) -> dict[str, dict[str, Any]]:
    """The loader's passes over the file, each alone (name -> child_sql args), to see where the time goes."""
    reader = plan.reader(quiet=True)
    checked = plan.checked(quiet=True)
    narrow = loader_plan(plan.path, only={("crime_type", "bad_category")})
    return {
        "A. loader's read_csv only: count(*)": {"sql": f"SELECT count(*) FROM {reader}"},
        "B. trimmed and parsed, count(*)": {"sql": f"SELECT count(*) FROM {checked}"},
        "C. accepted rows (all checks), count(*)": {"sql": f"SELECT count(*) FROM {checked} WHERE {plan.accepted}"},
        "D. narrow rejects pass (crime type refused), in file order": {
            "sql": f"CREATE TEMP TABLE r AS SELECT {narrow.reject} AS _reject FROM {narrow.checked(quiet=True)}"
        },
        "E. C written to a DuckDB file (no pseudonyms)": {
            "sql": f"CREATE TABLE t AS SELECT * EXCLUDE (_row) FROM (SELECT NULL AS _row, * FROM {checked}) "
            f"WHERE {plan.accepted}",
            "db": True,
            "setup": ["SET preserve_insertion_order = false"],
        },
    }


def bench_ingest_profile(opts: Options) -> BenchResult:
    """Where the loader's passes over the file spend their time and memory: each pass alone, one by one."""
    path = street_csv(opts.rows)
    _warm_page_cache(path)
    result = BenchResult("ingest_profile", details={"file": _shown(path)})
    plan = loader_plan(path)
    for name, variant in profile_variants(plan).items():
        result.measurements[name] = _measure("sql", {**variant, "rows": opts.rows, "tmp": str(OUT)})
    sql = f"SELECT count(*) FROM {plan.checked(quiet=True)} WHERE {plan.accepted}"
    explain = run_child("sql_explain", {"sql": sql, "rows": opts.rows, "tmp": str(OUT)})
    (OUT / "ingest_explain.txt").write_text(explain.payload["plan"], encoding="utf-8")
    result.details["explain_analyze"] = _shown(OUT / "ingest_explain.txt")
    return result


# --------------------------------------------------------------------------------------------------------------
# Findings and report benchmarks (issues 3 and 6)

TARGET_FINDINGS_AREA_S = 2.0
TARGET_FINDINGS_LARGE_S = 20.0
TARGET_REPORT_S = 20.0
DEMO_WS_VERSION = 3  # 2: linked (`cspkit link`), as `make demo` leaves it; 3: `_month` a virtual column


def demo_workspace() -> Path:
    """The demo workspace (real police data + 3 years of synthetic partner data + judgements), built once."""
    ws = OUT / f"demo-ws-v{DEMO_WS_VERSION}"
    if not (ws / "cspkit.toml").exists():
        run_child("build_demo_ws", {"ws": str(ws)})
    return ws


def child_build_demo_ws(args: dict[str, Any]) -> dict[str, Any]:
    """init, ingest the bundled police archive, generate and ingest synthetic partner data, record judgements."""
    from cspkit.ingest import ingest_paths
    from cspkit.synth import generate
    from cspkit.workspace import init_workspace

    root = Path(args["ws"])
    if root.exists():
        shutil.rmtree(root)
    ws = init_workspace(root, name="Central Bedfordshire Community Safety Partnership", area_codes=["E06000056"])
    con = ws.connect()
    try:
        generate(root / "partner-data", seed=1, years=3, end_month="2023-04")
        report = ingest_paths(con, [POLICE_ZIP, root / "partner-data"], key=ws.key())
        if not report.ok:
            raise RuntimeError(f"demo ingest failed: {report.errors}")
    finally:
        con.close()
    cspkit = str(Path(sys.executable).with_name("cspkit"))
    subprocess.run([cspkit, "link", "--workspace", str(root)], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    subprocess.run(["bash", str(REPO / "scripts" / "demo_judgements.sh"), str(root)], check=True, cwd=REPO)
    return {"seconds": 0.0, "rows": 0}


LARGE_WS_VERSION = 2  # 2: `_month` a virtual column


def large_workspace(rows: int) -> Path:
    """A workspace holding the scaled police file (``rows`` rows over 100 months), built once."""
    ws = OUT / f"large-ws-{rows}-v{GENERATOR_VERSION}-w{LARGE_WS_VERSION}"
    if not (ws / "cspkit.toml").exists():
        run_child("build_large_ws", {"ws": str(ws), "file": str(street_csv(rows))})
    return ws


def child_build_large_ws(args: dict[str, Any]) -> dict[str, Any]:
    from cspkit.ingest import ingest_paths
    from cspkit.workspace import init_workspace

    root = Path(args["ws"])
    if root.exists():
        shutil.rmtree(root)
    ws = init_workspace(root, name="Benchmark CSP", area_codes=["E06000056"])
    con = ws.connect()
    try:
        report = ingest_paths(con, [Path(args["file"])], key=ws.key(), source="police_street")
        if not report.ok:
            raise RuntimeError(f"ingest failed: {report.errors}")
    finally:
        con.close()
    return {"seconds": 0.0, "rows": 0}


def child_findings(args: dict[str, Any]) -> dict[str, Any]:
    """All findings for the workspace's area, with the time spent in DuckDB (SQL) and in Python."""
    # The analysis libraries the engine imports where they are used (Gi*, boundaries, forecasts), imported before
    # the clock starts, as every child's imports are: the command measurement below includes them.
    import esda  # noqa: F401
    import geopandas  # noqa: F401
    import libpysal  # noqa: F401
    from statsmodels.tsa.exponential_smoothing import ets  # noqa: F401

    from cspkit.findings.engine import compute_findings
    from cspkit.topics import TOPIC_BUILDERS
    from cspkit.workspace import Workspace

    ws = Workspace(Path(args["ws"]))
    config = ws.config()
    raw = ws.connect(read_only=True)
    con = TimedConnection(raw)
    start = time.perf_counter()
    fs = compute_findings(con, config, forecast=bool(args.get("forecast", True)), builders=TOPIC_BUILDERS)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    raw.close()
    sql_seconds = sum(e["seconds"] for e in con.log)
    rows = int(raw_count(ws))
    return {
        "seconds": seconds,
        "rows": rows,
        "findings": len(fs.findings),
        "duckdb_seconds": round(sql_seconds, 3),
        "python_seconds": round(seconds - sql_seconds, 3),
        "stages": {k: round(v, 3) for k, v in fs.timings.items()},
        "period": fs.period.label,
    }


def child_findings_command(args: dict[str, Any]) -> dict[str, Any]:
    """`cspkit findings` as a user runs it: a new process each time, wall time including start-up and imports."""
    cspkit = str(Path(sys.executable).with_name("cspkit"))
    walls = []
    for _ in range(int(args.get("runs", 5))):
        start = time.perf_counter()
        subprocess.run([cspkit, "findings", "--workspace", args["ws"]], check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
    return {"seconds": statistics.median(walls), "rows": 0, "runs": [round(w, 3) for w in walls]}


def raw_count(ws: Any) -> int:
    con = ws.connect(read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM police_street").fetchall()[0][0])
    finally:
        con.close()


def child_report(args: dict[str, Any]) -> dict[str, Any]:
    """The full assessment in all four formats for the demo workspace (a copy, so the cache stays clean)."""
    from cspkit.report.assess import assess
    from cspkit.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="cspkit-bench-report-", dir=args.get("tmp")) as tmp:
        root = Path(tmp) / "ws"
        shutil.copytree(args["ws"], root)
        ws = Workspace(root)
        start = time.perf_counter()
        result = assess(ws, formats=["html", "pdf", "docx", "xlsx"])
        seconds = time.perf_counter() - start
        sizes = {k: p.stat().st_size for k, p in result.files.items()}
    return {
        "seconds": seconds,
        "rows": 0,
        "stages": {k: round(v, 3) for k, v in result.timings.items()},
        "bytes": sizes,
    }


def bench_findings(opts: Options) -> BenchResult:
    """All findings for one area: the demo workspace, and a force-sized warehouse of ``opts.rows`` police rows."""
    result = BenchResult("findings")
    demo = str(demo_workspace())
    area = _measure("findings", {"ws": demo})
    result.measurements["findings, demo area (24 months police + 3 years partners)"] = area
    no_fc = _measure("findings", {"ws": demo, "forecast": False})
    result.measurements["  the same without the 12-month forecasts"] = no_fc
    command = _measure("findings_command", {"ws": demo})
    result.measurements["`cspkit findings` command, demo (median of 5, start-up included)"] = command
    large = _measure("findings", {"ws": str(large_workspace(opts.rows))})
    result.measurements[f"findings, {opts.rows:,}-row police warehouse"] = large
    result.checks = [
        Check("findings for one area (demo)", area["seconds"], TARGET_FINDINGS_AREA_S, False, "s"),
        Check("findings for one area, no forecasts", no_fc["seconds"], TARGET_FINDINGS_AREA_S, False, "s"),
        Check("`cspkit findings`, wall incl. start-up", command["seconds"], TARGET_FINDINGS_AREA_S, False, "s"),
        Check(f"findings on {opts.rows:,} rows", large["seconds"], TARGET_FINDINGS_LARGE_S, False, "s"),
    ]
    return result


def bench_report(opts: Options) -> BenchResult:
    """The full strategic assessment in HTML, PDF, Word and Excel for the demo workspace."""
    result = BenchResult("report")
    m = _measure("report", {"ws": str(demo_workspace()), "tmp": str(OUT)})
    result.measurements["assess: html, pdf, docx, xlsx (demo)"] = m
    result.checks = [
        Check("full report, four formats", m["seconds"], TARGET_REPORT_S, False, "s"),
        Check("report peak memory", m["peak_rss_bytes"], TARGET_PEAK_BYTES, False, "bytes"),
    ]
    return result


def bench_calibration(opts: Options) -> BenchResult:
    """Null false-flag rates and power of the change test on negative-binomial seasonal series shaped like the
    Bedfordshire data (cspkit.findings.calibration): statistical targets, not timings."""
    from cspkit.findings.calibration import calibrate

    result = BenchResult("calibration")
    start = time.perf_counter()
    found = calibrate(range(1, 21), n_wards=31)
    result.details["lines"] = [*found.table(), f"  ({time.perf_counter() - start:.1f} s)"]
    for kind in ("area", "ward"):
        share = found.share(found.false_flags, found.null_indicators, kind)
        result.checks.append(Check(f"{kind} null indicators flagged after BH (share)", share, 0.05 + 1e-9, False, ""))
    result.checks.append(Check("power, area +50% at 25+ a month", found.power("area", 1.5), 0.6, True, ""))
    # the LSOA emerging-hotspot test on LSOA counts that drift from year to year as the real ones do
    from cspkit.findings.calibration import calibrate_hotspots

    start = time.perf_counter()
    hot = calibrate_hotspots(range(1, 21))
    result.details["lines"] += [*hot.table(), f"  ({time.perf_counter() - start:.1f} s)"]
    share = hot.families_flagged / max(hot.families, 1)
    label = "LSOA null families with a false emerging hotspot (share)"
    result.checks.append(Check(label, share, 0.05 + 1e-9, False, ""))
    return result


LINKAGE_RECORDS = 1_000_000
LINKAGE_U_PAIRS = 2e6
TARGET_LINKAGE_SECONDS = 300.0
TARGET_LINKAGE_PEAK_BYTES = 6e9


def bench_linkage(opts: Options) -> BenchResult:
    """Linkage of a million person records (benchmarks/linkage_bench.py), with clear-text Splink in the same run."""
    args = {"records": LINKAGE_RECORDS, "max_pairs": LINKAGE_U_PAIRS}
    result = BenchResult("linkage", details={"records": LINKAGE_RECORDS, "u_sample_pairs": LINKAGE_U_PAIRS})
    for label, task in (("cspkit (keyed features)", "linkage_cspkit"), ("Splink on clear text", "linkage_clear")):
        try:
            run = run_child(task, args)
        except RuntimeError as error:  # keep the other child's figures (the clear baseline once ran out of memory)
            result.measurements[label] = {"seconds": 0.0, "cpu_seconds": 0.0, "rows_per_s": 0, "peak_rss_bytes": 0}
            result.details[f"{task} failed"] = str(error)
            print(json.dumps({task: str(error)}), file=sys.stderr)
            continue
        print(json.dumps({task: run.payload}), file=sys.stderr)  # figures survive a later failure
        seconds = float(run.payload["seconds"])
        result.measurements[label] = {
            **run.payload,
            "seconds": round(seconds, 2),
            "rows_per_s": round(LINKAGE_RECORDS / seconds) if seconds else 0,
            "process_seconds": round(run.process_seconds, 1),
            "cpu_seconds": round(run.cpu_seconds, 1),
            "peak_rss_bytes": run.peak_rss_bytes,
        }
    cs = result.measurements["cspkit (keyed features)"]
    clear = result.measurements["Splink on clear text"]
    cs["ratio_to_clear_text"] = round(cs["seconds"] / clear["seconds"], 2) if clear["seconds"] else None
    result.details["lines"] = _linkage_table(cs, clear)
    if "f1" not in cs:
        return result
    result.checks = [
        Check("cspkit linkage wall time (gate + Splink)", cs["seconds"], TARGET_LINKAGE_SECONDS, False, "s"),
        Check("cspkit linkage peak memory", cs["peak_rss_bytes"], TARGET_LINKAGE_PEAK_BYTES, False, "bytes"),
        Check("cspkit pairwise F1", cs["f1"], 0.975, True, ""),
        Check("cspkit pairwise precision", cs["precision"], 0.98, True, ""),
    ]
    return result


def _linkage_table(cs: dict[str, Any], clear: dict[str, Any]) -> list[str]:
    """cspkit beside Splink on clear text and exact matching on full name and date of birth, one column each."""
    exact = cs.get("exact_match", {})

    def cell(m: dict[str, Any], key: str, fmt: str) -> str:
        return format(m[key], fmt) if m.get(key) is not None else "-"

    rows = [
        ("wall time, s", cell(cs, "seconds", ".1f"), cell(clear, "seconds", ".1f"), "-"),
        ("CPU time of the child, s", cell(cs, "cpu_seconds", ".1f"), cell(clear, "cpu_seconds", ".1f"), "-"),
        (
            "peak memory, MB",
            f"{cs.get('peak_rss_bytes', 0) / 1e6:,.0f}",
            f"{clear.get('peak_rss_bytes', 0) / 1e6:,.0f}",
            "-",
        ),
        ("pairs at p >= 0.5", cell(cs, "pairs_scored", ","), cell(clear, "pairs_scored", ","), "-"),
        *(
            (f"pairwise {k}", cell(cs, k, ".4f"), cell(clear, k, ".4f"), cell(exact, k, ".4f"))
            for k in ("precision", "recall", "f1")
        ),
    ]
    lines = ["", f"  {'':28} {'cspkit (keyed)':>16} {'Splink, clear':>16} {'exact name+DOB':>16}"]
    lines += [f"  {label:28} {a:>16} {b:>16} {c:>16}" for label, a, b, c in rows]
    return lines


def _linkage_child(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def run(args: dict[str, Any]) -> dict[str, Any]:
        import linkage_bench  # benchmarks/ is on sys.path when this script runs

        return dict(getattr(linkage_bench, name)(args))

    return run


BENCHMARKS: dict[str, Callable[[Options], BenchResult]] = {
    "calibration": bench_calibration,
    "ingest": bench_ingest,
    "linkage": bench_linkage,
    "ingest_profile": bench_ingest_profile,
    "findings": bench_findings,
    "report": bench_report,
}
DEFAULT_BENCHMARKS = [
    "ingest",
    "findings",
    "report",
    "calibration",
    "linkage",
]  # the others are diagnostics: run them with --only NAME

CHILD_TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "build_street_csv": child_build_street_csv,
    "count": child_count,
    "ctas": child_ctas,
    "cspkit_ingest": child_cspkit_ingest,
    "build_demo_ws": child_build_demo_ws,
    "build_large_ws": child_build_large_ws,
    "findings": child_findings,
    "findings_command": child_findings_command,
    "report": child_report,
    "sql": child_sql,
    "sql_explain": child_sql_explain,
    "linkage_cspkit": _linkage_child("child_cspkit"),
    "linkage_clear": _linkage_child("child_clear"),
}


# --------------------------------------------------------------------------------------------------------------
# Output


def _fmt(value: Any, unit: str = "") -> str:
    if unit == "bytes":
        return f"{value / 1e6:,.0f} MB"
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "x":
        return f"{value:.2f}x"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_result(result: BenchResult) -> None:
    print(f"\n== {result.name} ==")
    print(
        f"{'measurement':50} {'seconds':>9} {'CPU s':>7} {'rows/s':>12} {'peak RSS':>10} {'x count':>8} {'x create':>9}"
    )
    for name, m in result.measurements.items():
        ratio_count = f"{m['ratio_to_count']:.2f}" if "ratio_to_count" in m else ""
        ratio_ctas = f"{m['ratio_to_create_table']:.2f}" if "ratio_to_create_table" in m else ""
        print(
            f"{name:50} {m['seconds']:>9.2f} {m['cpu_seconds']:>7.1f} {m['rows_per_s']:>12,} "
            f"{m['peak_rss_bytes'] / 1e6:>7,.0f} MB {ratio_count:>8} {ratio_ctas:>9}"
        )
    for name, m in result.measurements.items():
        if "duckdb_seconds" in m:
            print(
                f"  {name.strip()}: DuckDB {m['duckdb_seconds']:.2f} s, Python {m['python_seconds']:.2f} s; "
                f"{m['stages']}"
            )
    for name, m in result.measurements.items():
        if "steps" in m:
            print(f"\n{name}: where the time goes")
            for step in m["steps"]:
                print(f"  {step['seconds']:>8.2f} s  {step['step']}")
    for line in result.details.get("lines", []):
        print(line)
    print()
    for c in result.checks:
        verdict = "PASS" if c.passed else "FAIL  <<<<<<"
        op = ">=" if c.higher_is_better else "<"
        print(f"  {verdict:12} {c.name}: {_fmt(c.value, c.unit)} (target {op} {_fmt(c.limit, c.unit)})")


def _environment() -> dict[str, Any]:
    import duckdb

    return {
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def write_results(results: list[BenchResult], opts: Options) -> None:
    """Update ``results.json``: each benchmark run replaces its own entry, the others' entries are kept."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "results.json"
    entries: dict[str, Any] = {}
    if path.exists():
        entries = {e["name"]: e for e in json.loads(path.read_text(encoding="utf-8")).get("benchmarks", [])}
    env = _environment()
    for r in results:
        entries[r.name] = {**r.to_dict(), "rows": opts.rows, "environment": env}
    doc = {"benchmarks": list(entries.values())}
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this benchmark")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows in the scaled police file")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        task, payload = args.child
        print(json.dumps(CHILD_TASKS[task](json.loads(payload))))
        return 0
    opts = Options(rows=args.rows)
    results = [BENCHMARKS[name](opts) for name in (args.only or DEFAULT_BENCHMARKS)]
    for result in results:
        print_result(result)
    write_results(results, opts)
    failed = [c.name for r in results for c in r.checks if not c.passed]
    print(f"\nwrote {_shown(OUT / 'results.json')}: " + (f"FAIL ({len(failed)})" if failed else "PASS"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
