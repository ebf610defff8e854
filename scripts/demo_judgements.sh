#!/usr/bin/env bash
# The demo partnership's workshop judgements on "partnership value" (can the CSP change this beyond what one
# agency does alone?), as an analyst would record them with `cspkit score set`. Illustrative, not real decisions.
set -euo pipefail
WS=$1
CSPKIT=.venv/bin/cspkit
set_pv() { $CSPKIT score set --workspace "$WS" "$1" partnership_value "$2" --who "CSP strategy group workshop (demo)" --why "$3" >/dev/null; }
set_pv domestic_abuse 5 "Needs police, council, health, housing and IDVA services together; MARAC is a partnership process."
set_pv asb 5 "Council ASB team, police and housing share cases and tools (ASB case review, injunctions)."
set_pv reoffending 5 "IOM is jointly run by police and probation with housing and treatment partners."
set_pv sexual_violence 4 "SARC, police and health pathways; the partnership can commission and coordinate."
set_pv violence_and_sexual_offences 4 "Serious Violence Duty partners (police, council, health, education) act together."
set_pv drugs 4 "Treatment (public health) and enforcement (police) need joint work."
set_pv burglary 3 "Mainly police business, with partners adding target-hardening and Neighbourhood Watch."
set_pv criminal_damage_and_arson 3 "Council environmental teams, fire service and police share some of the work."
set_pv shoplifting 2 "Mostly police and retailers (business crime partnership)."
set_pv vehicle_crime 2 "Largely single-agency (police) business."
set_pv public_order 3 "Night-time economy work involves licensing (council) and police."
set_pv possession_of_weapons 4 "Knife crime prevention involves schools, youth services and police."
set_pv robbery 3 "Mostly police, with youth services for young offenders."
set_pv other_theft 1 "Single-agency police business."
set_pv theft_from_the_person 1 "Single-agency police business."
set_pv bicycle_theft 1 "Single-agency police business."
set_pv other_crime 1 "A residual category with no partnership lever."
