"""What linkage adds to the assessment: the linkage findings on the linked synthetic partnership."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from cspkit.findings.engine import compute_findings
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace


def test_linkage_findings_add_up_and_agree_with_the_planted_people(
    linked_workspace: Workspace, synth_people: Path
) -> None:
    con = linked_workspace.connect(read_only=True)
    try:
        fs = compute_findings(
            con,
            linked_workspace.config(),
            topics=["linkage"],
            forecast=False,
            hotspot_maps=False,
            builders=TOPIC_BUILDERS,
        )
        period = fs.findings[0].period
        police, partners = con.execute(
            "SELECT count(*) FILTER (_agency = 'police'), count(*) FILTER (_agency <> 'police') FROM asb_incidents "
            "WHERE strftime(reported_at, '%Y-%m') BETWEEN ? AND ?",
            list(period),
        ).fetchall()[0]
    finally:
        con.close()
    by_id = {f.id: f for f in fs.findings}
    assert set(by_id) == {
        "linkage.multi_agency",
        "linkage.hidden_repeat_victims",
        "linkage.da_perpetrators_managed",
        "linkage.victims_several_perpetrators",
        "linkage.marac_repeat_predicted",
        "linkage.asb_combined",
    }
    multi = by_id["linkage.multi_agency"]
    assert multi.value == sum(multi.extra["by_combination"].values()) > 0
    assert all("+" in combination for combination in multi.extra["by_combination"])
    hidden = by_id["linkage.hidden_repeat_victims"]
    assert 0 < hidden.value <= hidden.extra["repeat_victims_across_agencies"]
    rec = {line["line"]: line["incidents"] for line in by_id["linkage.asb_combined"].extra["reconciliation"]}
    assert rec["police ASB incidents (partner file)"] == police
    assert rec["council and other partner ASB incidents"] == partners
    assert sum(v for k, v in rec.items() if not k.startswith("combined")) == by_id["linkage.asb_combined"].value
    marac = by_id["linkage.marac_repeat_predicted"]
    assert marac.extra["p_value"] is None or 0 <= marac.extra["p_value"] <= 1
    assert "Fisher" in marac.definition

    # The same multi-agency count from the planted truth: linkage gets within 10% of it.
    truth = pd.read_csv(synth_people / "linkage_truth.csv", dtype=str)
    services = defaultdict(set)
    files = {
        "asb_incidents_police.csv": ("asb_incidents", "incident_ref", "reported_at", "police ASB"),
        "asb_incidents_council.csv": ("asb_incidents", "incident_ref", "reported_at", "council ASB"),
        "domestic_abuse.csv": ("domestic_abuse", "incident_ref", "reported_at", "police DA"),
        "marac_referrals.csv": ("marac_referrals", "referral_ref", "referral_date", "MARAC"),
        "offenders.csv": ("offenders", "offender_ref", "entry_date", "IOM/PPO"),
    }
    for name, (source, ref, when, service) in files.items():
        frame = pd.read_csv(synth_people / name, dtype=str, keep_default_na=False)
        frame = frame[frame[when].str[:7].between(*period)]
        refs = set(frame[ref])
        for row in truth[(truth.source == source) & truth.record_ref.isin(refs)].itertuples():
            services[row.person_label].add(service)
    expected = sum(1 for s in services.values() if len(s) > 1)
    assert abs(multi.value - expected) <= 0.1 * expected, (multi.value, expected)
