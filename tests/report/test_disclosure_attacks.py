"""The public edition, attacked: no hidden count can be recovered from what it prints, for a year, a quarter and
one month.

The attacker (tests/report/attacker.py) reads the published Document (every table the Excel annex and the HTML
print), knows which figures add up and what the markers mean, and pins down cells by integer programming. Truth
comes from the findings of the same run. Each attack also runs on a control, the same figures protected table by
table as the public edition did before the disclosure ledger, to show the attack finds what it is looking for.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator

import pytest

from cspkit.findings.engine import FindingSet
from cspkit.findings.model import Finding
from cspkit.report.assess import AssessResult
from cspkit.report.builder import AssessmentInputs, Builder, three_figures
from cspkit.report.model import Callout, Column, Document, Figure, Paragraph, Table
from tests.report.attacker import THRESHOLD, Problem, reading
from tests.report.demo_assessment import demo_assessment

PERIODS = {"year": None, "quarter": "2022-23Q4", "month": "2023-04..2023-04"}
MEASURES = ("value", "baseline")
#: Tables whose indicator rows are of the assessment's period (the performance table is of a quarter).
SAME_PERIOD_TABLES = {"crime-indicators", "asb-indicators", "da-indicators", "summary-changes-table"}
_CRIME = re.compile(r"^crime\.([a-z_]+)\.(?:ward\.([^.]+)\.)?count$")


@pytest.fixture(scope="module", params=list(PERIODS))
def public(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AssessResult:
    # the year's edition is the one test_public_edition.py renders; the others only need the document and HTML
    formats = ["html", "pdf", "xlsx"] if PERIODS[request.param] is None else ["html"]
    return demo_assessment(tmp_path_factory, "public", formats, PERIODS[request.param])


def _tables(doc: Document) -> Iterator[Table]:
    for _, table in doc.tables():
        yield table


def _texts(doc: Document) -> Iterator[str]:
    for _, section in doc.walk():
        for block in section.blocks:
            if isinstance(block, Paragraph | Callout):
                yield block.text
            elif isinstance(block, Table):
                for row in block.rows:
                    yield from (row[c.key] for c in block.columns if isinstance(row.get(c.key), str))


def _truth(f: Finding | None, measure: str) -> float | None:
    value = getattr(f, measure) if f is not None else None
    return float(value) if isinstance(value, int | float) else None


def _leaks(problem: Problem, truth: dict[Hashable, float | None]) -> list[tuple[Hashable, int, Hashable]]:
    """Cells recovered exactly that the edition did not print: any hidden by a marker, and any never printed
    that is small. A zero is not a leak: the edition prints zeros (``suppress_zero`` is off), so a "*" that turns
    out to hide one tells the reader nothing it would not have printed."""
    out = []
    for key, value in problem.recovered().items():
        seen = problem.seen[key]
        true = truth.get(key)
        assert true is None or value == round(true), (key, value, true)  # the attacker is never wrong
        if value != 0 and (seen in ("<5", "*") or (true is not None and 0 < true < THRESHOLD)):
            out.append((key, value, seen))
    return out


def _assert_safe_and_not_vacuous(problem: Problem, truth: dict[Hashable, float | None], what: object) -> int:
    """No leak; and where the edition hides something, the attack recovers it once every other unknown cell is
    printed (so the attack can see the failure it looks for). Returns how many cells the edition hid."""
    assert _leaks(problem, truth) == [], what
    hidden = [k for k, v in problem.seen.items() if v in ("<5", "*")]
    if hidden:
        control = Problem(dict(problem.seen), list(problem.relations))
        for key, seen in problem.seen.items():
            if key != hidden[0] and not isinstance(seen, float) and truth.get(key) is not None:
                control.seen[key] = float(truth[key] or 0)
        assert hidden[0] in [key for key, _, _ in _leaks(control, truth)], what
    return len(hidden)


# -- the crime grid: wards x crime types, with the area row, the all-crime column and the harm index ---------


def _crime_truth(fs: FindingSet, measure: str) -> dict[Hashable, float | None]:
    truth: dict[Hashable, float | None] = {}
    for f in fs.findings:
        m = _CRIME.match(f.id)
        if m:
            truth[(m[2] or "area", m[1])] = _truth(f, measure)
    return truth


def _crime_problem(doc: Document, fs: FindingSet, measure: str, truth: dict[Hashable, float | None]) -> Problem:
    """What the public document tells of crime counts, laid out as the grid they add up in."""
    titles = {f.title: _CRIME.match(f.id)[1] for f in fs.findings if _CRIME.match(f.id) and ".ward." not in f.id}  # type: ignore[index]
    problem = Problem()
    for key in truth:
        problem.cell(key, None)  # every cell exists; most ward x type cells are never printed
    for table in _tables(doc):
        if (table.id and table.id.startswith("ward-")) or table.id == "crime-wards":
            crime_type = "all" if table.id == "crime-wards" else table.id.removeprefix("ward-")
            if ("area", crime_type) not in truth:
                continue
            for row in table.rows:
                problem.cell((row["code"], crime_type), reading(row.get(measure)))
        if table.id not in SAME_PERIOD_TABLES:
            continue  # the quarterly performance table is of another period
        for row in table.rows:
            crime_type = titles.get(str(row.get("indicator", "")))
            if crime_type is not None:
                problem.cell(("area", crime_type), reading(row.get(measure)))
    wards = sorted({w for w, _ in truth if w != "area"})
    types = sorted({t for _, t in truth if t != "all"})

    def offset(parts: list[Hashable], total: Hashable) -> float:
        return sum(truth[p] or 0 for p in parts) - (truth[total] or 0)

    for t in [*types, "all"]:
        parts: list[Hashable] = [(w, t) for w in wards]
        problem.adds_up(parts, ("area", t), offset(parts, ("area", t)))
    for w in [*wards, "area"]:
        parts = [(w, t) for t in types]
        problem.adds_up(parts, (w, "all"), offset(parts, (w, "all")))
    harm = fs.get("crime.harm.total")
    if measure == "value" and harm is not None:
        _harm_relations(doc, harm, problem, titles)
    return problem


def _harm_relations(doc: Document, harm: Finding, problem: Problem, titles: dict[str, str]) -> None:
    """Harm is weight x count: each printed harm row, and the printed total (to three figures and as a rate per
    1,000 residents), are weighted sums of crime counts the attacker can use."""
    weights: dict[str, float] = harm.extra.get("weights", {})
    for table in _tables(doc):
        if table.id != "harm":
            continue
        for row in table.rows:
            crime_type = titles.get(str(row["crime_type"]))
            value = reading(row["harm"])
            if crime_type in weights and isinstance(value, float) and weights[crime_type]:
                problem.relations.append(({("area", crime_type): weights[crime_type]}, value - 0.5, value + 0.5))
    text = " ".join(_texts(doc))
    total = re.search(r"Harm-weighted crime \(harm days[^:]*: ([\d,]+) in", text)
    if total:
        printed = float(total[1].replace(",", ""))
        digits = len(total[1].replace(",", "").rstrip("0")) or 1
        unit = 10 ** (len(total[1].replace(",", "")) - max(digits, 3))
        coefficients: dict[Hashable, float] = {("area", t): w for t, w in weights.items()}
        problem.relations.append((coefficients, printed - unit / 2, printed + unit / 2))


def _lone_hidden_control(problem: Problem, truth: dict[Hashable, float | None]) -> tuple[Problem, Hashable]:
    """The same document with every hidden ward cell of one crime type printed but one: the attack must find it."""
    control = Problem(dict(problem.seen), list(problem.relations))
    hidden = [k for k, v in problem.seen.items() if v in ("<5", "*") and isinstance(k, tuple) and k[0] != "area"]
    crime_type = hidden[0][1]
    lone = next(k for k in hidden if k[1] == crime_type)
    for key in problem.seen:
        if isinstance(key, tuple) and key[1] == crime_type and key != lone:
            control.seen[key] = float(truth[key] or 0)
    return control, lone


@pytest.mark.parametrize("measure", MEASURES)
def test_crime_counts_cannot_be_recovered_across_tables(public: AssessResult, measure: str) -> None:
    truth = _crime_truth(public.findings, measure)
    problem = _crime_problem(public.document, public.findings, measure, truth)
    hidden = [k for k, v in problem.seen.items() if v in ("<5", "*")]
    assert _leaks(problem, truth) == []
    # not vacuous: the document does hide crime cells, and one left alone in its line is found
    assert hidden
    control, lone = _lone_hidden_control(problem, truth)
    assert lone in [key for key, _, _ in _leaks(control, truth)]


# -- the other ward tables against their area totals ------------------------------------------------------


def test_ward_tables_cannot_be_differenced_against_the_area(public: AssessResult) -> None:
    fs = public.findings
    by_id = {f.id: f for f in fs.findings}
    checked = 0
    for table in _tables(public.document):
        if not table.provenance or not table.provenance.finding_ids or "code" not in {c.key for c in table.columns}:
            continue
        first = table.provenance.finding_ids[0]
        m = re.match(r"^(?P<prefix>.+)\.ward\.[^.]+\.(?P<suffix>.+)$", first)
        if not m or first.startswith("crime."):
            continue
        area = by_id.get(f"{m['prefix']}.{m['suffix']}")
        wards = {
            f.area: f for f in fs.findings if f.id.startswith(f"{m['prefix']}.ward.") and f.id.endswith(m["suffix"])
        }
        if area is None:
            continue
        for measure in MEASURES:
            problem = Problem()
            truth: dict[Hashable, float | None] = {code: _truth(f, measure) for code, f in wards.items()}
            truth["area"] = _truth(area, measure)
            for key in truth:
                problem.cell(key, None)
            for row in table.rows:
                problem.cell(row["code"], reading(row.get(measure)))
            for other in _tables(public.document):
                if other.id not in SAME_PERIOD_TABLES:
                    continue
                for row in other.rows:
                    if row.get("indicator") == area.title:
                        problem.cell("area", reading(row.get(measure)))
            parts: list[Hashable] = list(wards)
            problem.adds_up(parts, "area", sum(truth[p] or 0 for p in parts) - (truth["area"] or 0))
            _assert_safe_and_not_vacuous(problem, truth, (table.id, measure))
            checked += 1
    assert checked >= 2  # ASB and domestic abuse at least


# -- reoffending cohorts: all cohorts against the IOM and PPO cohorts ----------------------------------------


def test_cohorts_cannot_be_differenced(public: AssessResult) -> None:
    fs = public.findings
    doc = public.document
    rows = {
        table.id: {row["measure"]: row for row in table.rows}
        for table in _tables(doc)
        if table.id in ("reoffending-table", "reoffending-iom-table", "reoffending-ppo-table")
    }
    assert len(rows) == 3
    measures = 0
    for f in fs.findings:
        parts = f.id.split(".")
        if parts[0] != "reoffending" or parts[1] in ("iom", "ppo") or f.unit not in ("count", "proportion"):
            continue
        cohorts = {c: fs.get(f"reoffending.{c}.{'.'.join(parts[1:])}") for c in ("iom", "ppo")}
        if any(c is None for c in cohorts.values()):
            continue
        members = {"all": (f, "reoffending-table"), **{c: (g, f"reoffending-{c}-table") for c, g in cohorts.items()}}
        fields = ("numerator", "denominator") if f.unit == "proportion" else MEASURES
        for measure in fields:
            problem = Problem()
            truth: dict[Hashable, float | None] = {}
            for key, (finding, table_id) in members.items():
                assert finding is not None
                truth[key] = _truth(finding, measure)
                row = rows[table_id].get(finding.title)
                printed = None if row is None else row["value" if measure != "baseline" else "baseline"]
                if measure in ("numerator", "denominator") and isinstance(printed, str):
                    base = re.search(r"\(([\d,]+) of ([\d,]+)\)", printed)
                    printed = base[1 if measure == "numerator" else 2] if base else None
                problem.cell(key, reading(printed))
            offset = (truth["iom"] or 0) + (truth["ppo"] or 0) - (truth["all"] or 0)
            problem.adds_up(["iom", "ppo"], "all", offset)
            _assert_safe_and_not_vacuous(problem, truth, (f.id, measure))
            measures += 1
    assert measures >= 5


# -- a table against the total its sentence prints ------------------------------------------------------------


@pytest.mark.parametrize(
    "combinations",
    [
        {"MARAC + police DA": 21, "police ASB + police DA": 1},
        {"a": 563, "b": 39, "c": 26, "d": 23, "e": 1, "f": 2, "g": 2, "h": 2},
        {"a": 40, "b": 1, "c": 5, "d": 30},
        {"a": 40, "b": 1, "c": 1, "d": 30},
    ],
)
def test_a_table_cannot_be_differenced_against_the_total_its_sentence_prints(
    public: AssessResult, combinations: dict[str, int]
) -> None:
    """The multi-agency chapter prints "658 are known to two or more services" and the table by combination:
    the table is protected with that total as a known last row (planted tables, as the test workspace runs no
    linkage)."""
    builder = Builder(AssessmentInputs("Test CSP", public.findings, edition="public"))
    total = sum(combinations.values())
    table = builder.protect(
        Table(
            [Column("services", "Services"), Column("people", "People", "int")],
            [{"services": k, "people": v} for k, v in combinations.items()],
            caption="People known to two or more services",
        ),
        known_total=total,
    )
    truth: dict[Hashable, float | None] = {k: float(v) for k, v in combinations.items()}
    truth["total"] = total
    problem = Problem()
    for row in table.rows:
        problem.cell(row["services"], reading(row["people"]))
    problem.cell("total", float(total))
    problem.adds_up(list(combinations), "total")
    assert _assert_safe_and_not_vacuous(problem, truth, combinations) >= 2


# -- monthly series: all crime minus the published crime types ------------------------------------------------


def test_monthly_series_cannot_be_differenced(public: AssessResult) -> None:
    fs = public.findings
    series = public.document.monthly.get("Crime", {})
    assert "All crime" in series
    types = [f for f in fs.findings if _CRIME.match(f.id) and ".ward." not in f.id and f.id != "crime.all.count"]
    withheld = [f for f in types if f.title not in series]
    assert len(withheld) != 1  # all crime minus the others would give the one series back
    problem = Problem()
    truth: dict[Hashable, float | None] = {}
    total = dict(series["All crime"])
    for month, all_crime in total.items():
        parts: list[Hashable] = []
        for f in types:
            value = dict(f.series).get(month)
            key = (f.title, month)
            truth[key] = value
            problem.cell(key, dict(series[f.title]).get(month) if f.title in series else None)
            parts.append(key)
        problem.cell(("all", month), all_crime)
        truth[("all", month)] = all_crime
        problem.adds_up(parts, ("all", month), sum(truth[p] or 0 for p in parts) - all_crime)
    _assert_safe_and_not_vacuous(problem, truth, "monthly crime series")


# -- text and pictures ---------------------------------------------------------------------------------------


def test_no_sentence_gives_a_withheld_ward_its_move(public: AssessResult) -> None:
    """ "The wards that moved most: Shefford (+7)" with Shefford hidden gives Shefford's count from the other."""
    withheld = set()
    for table in _tables(public.document):
        if "code" in {c.key for c in table.columns}:
            withheld |= {r["ward"] for r in table.rows if any(r.get(m) in ("<5", "*") for m in MEASURES)}
    texts = list(_texts(public.document))
    said = [t for t in texts for w in withheld if re.search(rf"\b{re.escape(w)} \([+\-−][\d,]+\)", t)]
    assert said == []


def test_maps_leave_no_comment_and_hatch_every_withheld_ward(public: AssessResult) -> None:
    """A ward the table does not print is hatched on its map: coloured, its legend class would bound its rate."""
    html = public.files["html"].read_text(encoding="utf-8")
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert svgs and not any("<!--" in svg for svg in svgs)
    checked = 0
    for _, section in public.document.walk():
        tables = [b for b in section.blocks if isinstance(b, Table) and b.id and "ward" in b.id]
        maps = [b for b in section.blocks if isinstance(b, Figure) and "per 1,000 residents by ward" in b.caption]
        for table, figure in zip(tables, maps, strict=False):
            withheld = sum(1 for r in table.rows if not isinstance(r.get("value"), int | float))
            # each hatched ward fills with the hatch pattern, and so does its legend entry
            assert len(re.findall(r"url\(#h", figure.svg)) == (withheld + 1 if withheld else 0), table.id
            checked += 1
    assert checked >= 2


def test_published_rows_keep_their_verdict(public: AssessResult) -> None:
    """Protection blanks what belongs to a hidden count, and nothing else: a printed ward keeps its verdict."""
    for table in _tables(public.document):
        if table.id == "crime-wards":
            printed = [r for r in table.rows if isinstance(r["value"], int | float)]
            assert printed and all(r["verdict"] not in ("", "–") for r in printed)
            assert all(r["verdict"] == "–" for r in table.rows if not isinstance(r["value"], int | float))


def test_withheld_harm_is_the_harm_of_the_published_types(public: AssessResult) -> None:
    """With a crime type withheld, the harm table and its sentence cover the published types only: the total is
    their sum to three figures and the shares are of it. April 2023 withholds possession of weapons (2 in March)."""
    harm = next(t for t in _tables(public.document) if t.id == "harm")
    indicators = next(t for t in _tables(public.document) if t.id == "crime-indicators")
    withheld = {r["indicator"] for r in indicators.rows if not isinstance(r["value"], int | float)}
    sentence = next(
        (t for t in _texts(public.document) if t.startswith("Harm-weighted crime of the crime types")), None
    )
    if public.findings.period.n_months == 1:
        assert "Possession of weapons" in withheld and sentence is not None
    if sentence is None:
        return
    assert not withheld & {r["crime_type"] for r in harm.rows}
    total = sum(r["harm"] for r in harm.rows)
    assert f"about {three_figures(total):,.0f} harm days" in sentence
    assert sum(r["share"] for r in harm.rows) == pytest.approx(1.0)
    assert all(name.lower() in sentence for name in withheld)


# -- LSOA maps: each LSOA's class, against the ward and area totals the document prints ----------------------


def _class_range(label: str) -> tuple[float, float] | None:
    """The range a legend label gives ("12", "5 – 9"), or None for a hatched ("not published") area."""
    if "not published" in label:
        return None
    numbers = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", label)]
    return numbers[0], numbers[-1]


def test_lsoa_maps_cannot_be_differenced_against_the_ward_tables(public: AssessResult) -> None:
    """A hatched LSOA of a ward whose total is printed, beside LSOAs whose legend classes bound their counts: with a
    ward of 9 printed and its other LSOAs in the classes "0" and "5", the hatched one holds 4.

    A hatched LSOA is anything from 0 up to the reader: the map hatches a small count and a count hatched to
    protect one alike ("not published (small numbers, or to protect them)"). The control prints the true count
    of every LSOA of one ward but one small one: the attack must then find it.
    """
    fs = public.findings
    area = fs.area
    checked = hidden_seen = 0
    for _, section in public.document.walk():
        for figure in [b for b in section.blocks if isinstance(b, Figure) and b.areas]:
            hotspots = fs.get(figure.provenance.finding_ids[0]) if figure.provenance else None
            assert hotspots is not None and hotspots.id.endswith(".hotspots")
            prefix = hotspots.id.removesuffix(".hotspots")
            counts: dict[str, float] = hotspots.extra["lsoa_counts"]
            total = fs.get(f"{prefix}.count")
            truth: dict[Hashable, float | None] = {("lsoa", c): float(v) for c, v in counts.items()}
            truth |= {("ward", f.area): f.value for f in fs.findings if f.id.startswith(f"{prefix}.ward.")}
            truth["area"] = total.value if total is not None else None
            problem = Problem()
            for key in truth:
                problem.cell(key, None)
            hatched = []
            for code, label in figure.areas.items():
                bounds = _class_range(label)
                if bounds is None:
                    hatched.append(code)
                else:
                    problem.relations.append(({("lsoa", code): 1.0}, bounds[0], bounds[1]))
            for table in [b for b in section.blocks if isinstance(b, Table) and "code" in {c.key for c in b.columns}]:
                for row in table.rows:
                    problem.cell(("ward", row["code"]), reading(row.get("value")))
            for table in _tables(public.document):
                if table.id in SAME_PERIOD_TABLES and total is not None:
                    for row in table.rows:
                        if row.get("indicator") == total.title:
                            problem.cell("area", reading(row.get("value")))
            for ward in area.ward_names:
                problem.adds_up([("lsoa", c) for c, w in area.lsoa_ward.items() if w == ward], ("ward", ward))
            problem.adds_up([("lsoa", c) for c in counts], "area")
            assert _leaks(problem, truth) == [], figure.caption
            small = [c for c in hatched if 0 < counts[c] < THRESHOLD]
            assert sorted(small) == sorted(c for c, v in counts.items() if 0 < v < THRESHOLD)  # every small one
            if small:
                lone = small[0]
                control = Problem(dict(problem.seen), list(problem.relations))
                for c, w in area.lsoa_ward.items():
                    if w == area.lsoa_ward[lone] and c != lone:
                        control.seen[("lsoa", c)] = counts[c]
                control.seen[("ward", area.lsoa_ward[lone])] = truth[("ward", area.lsoa_ward[lone])]
                assert ("lsoa", lone) in [key for key, _, _ in _leaks(control, truth)], figure.caption
            hidden_seen += len(small)
            checked += 1
    assert checked >= 1
