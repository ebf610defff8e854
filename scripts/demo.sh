#!/usr/bin/env bash
# The demo: a Central Bedfordshire workspace from the bundled real police data and synthetic partner data,
# ending with the full Partnership Strategic Assessment (restricted and public editions).
set -euo pipefail
cd "$(dirname "$0")/.."
WS=${1:-demo-workspace}
CSPKIT=.venv/bin/cspkit

rm -rf "$WS"
$CSPKIT init "$WS" --name "Central Bedfordshire Community Safety Partnership" --area E06000056
$CSPKIT ingest --workspace "$WS" demo/police/bedfordshire-2021-05_2023-04.zip
$CSPKIT synth "$WS/partner-data" --seed 1 --years 3 --end-month 2023-04
$CSPKIT ingest --workspace "$WS" "$WS/partner-data"
$CSPKIT status --workspace "$WS"
$CSPKIT link --workspace "$WS"
$CSPKIT link evaluate --workspace "$WS" "$WS/partner-data/linkage_truth.csv"
bash scripts/demo_judgements.sh "$WS"
$CSPKIT priorities --workspace "$WS"
$CSPKIT assess --workspace "$WS" --edition restricted
$CSPKIT assess --workspace "$WS" --edition public --formats html,pdf,docx,xlsx
echo
echo "Demo workspace: $WS — the assessment is in $WS/outputs/"
