"""The workshop: two board members score, the analyst sees agreement and the combined ranking, then closes it into
judgements that `cspkit priorities` reads."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable

from cspkit.web.db import Score
from cspkit.workspace import Workspace
from tests.web.conftest import WebApp, csrf_of


def _score(client, csrf: str, candidate: str, value: str, why: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/workshop/score",
        data={"candidate": candidate, "criterion": "partnership_value", "value": value, "why": why},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )


def test_two_board_members_score_and_the_analyst_closes_the_workshop(
    make_web: Callable[..., WebApp], own_workspace: Workspace, database_url: str
) -> None:
    web = make_web(database_url, ws=own_workspace)
    one = web.signed_in("board")
    page = one.get("/workshop")
    assert page.status_code == 200
    assert 'name="value"' in page.text and "crime.burglary.count" in page.text  # evidence cites its finding ids
    csrf_one = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    # a second board member
    admin = web.signed_in("administrator")
    users = admin.post(
        "/users", data={"email": "board2@csp.example", "role": "board", "csrf_token": csrf_of(admin.get("/users").text)}
    )
    password = re.search(r"the password ([A-Za-z0-9_-]+), then", users.text).group(1)  # type: ignore[union-attr]
    from tests.web.conftest import sign_in

    assert "board2@csp.example can sign in" in users.text, users.text[-3000:]
    two = sign_in(web.client(), "board2@csp.example", password)
    own = {
        "current_password": password,
        "new_password": "board two's own words",
        "confirm_password": "board two's own words",
    }
    chosen = two.post("/change-password", data={**own, "csrf_token": csrf_of(two.get("/change-password").text)})
    assert chosen.status_code == 200 and chosen.url.path == "/"  # a one-time password first becomes their own
    csrf_two = re.search(r'"X-CSRF-Token": "([^"]+)"', two.get("/workshop").text).group(1)  # type: ignore[union-attr]
    assert "Saved at" in _score(one, csrf_one, "burglary", "2", "mostly police").text
    assert "Saved at" in _score(one, csrf_one, "burglary", "3", "target hardening with the council").text  # changed
    assert "Saved at" in _score(two, csrf_two, "burglary", "5", "all partners").text
    assert "Saved at" in _score(one, csrf_one, "asb", "5", "shared cases").text
    assert "Saved at" in _score(two, csrf_two, "asb", "4", "").text
    assert "Saved at" in _score(two, csrf_two, "drugs", "4", "treatment and police").text
    refused = _score(two, csrf_two, "burglary", "9", "off the scale")
    assert refused.status_code == 400 and "not on the scale" in refused.text
    analyst = web.signed_in("analyst")
    view = analyst.get("/workshop")
    # agreement: burglary 3 vs 5 (spread 2), asb 5 vs 4 (spread 1): 0 exact, 1 within one level
    assert "Of 2 scores given by two or more board members, 0 agree exactly and\n  1 are within one level." in view.text
    assert "Combined ranking if the workshop closed now" in view.text
    close = analyst.post("/workshop/close", data={"csrf_token": csrf_of(view.text)}, follow_redirects=False)
    assert close.status_code == 303
    recorded = tomllib.loads(own_workspace.judgements_path.read_text())["judgements"]["vthpc"]
    # medians (lower middle level for two scorers): burglary (3, 5) -> 3; asb (5, 4) -> 4; drugs (4) -> 4
    assert recorded["burglary"]["partnership_value"]["value"] == 3
    assert recorded["asb"]["partnership_value"]["value"] == 4
    assert recorded["drugs"]["partnership_value"]["value"] == 4
    why = recorded["burglary"]["partnership_value"]["why"]
    assert (
        "Median of 2 board scores" in why and "target hardening with the council" in why and "mostly police" not in why
    )
    assert recorded["burglary"]["partnership_value"]["who"].startswith("CSP board workshop")
    # the history of every score is kept (burglary was scored twice by the first member)
    db = web.state.sessions()
    try:
        assert db.query(Score).filter(Score.candidate == "burglary").count() == 3
    finally:
        db.close()
    # the scoring that `cspkit priorities` runs reads the recorded judgements: these three now have totals
    from cspkit.priorities.run import prioritise

    with own_workspace.connect(read_only=True) as con:
        result = prioritise(con, own_workspace, web.state.cache.get().fs, runs=50)
    rows = {r.candidate: r for r in result.ranking.rows}
    assert rows["burglary"].complete and rows["asb"].complete and rows["drugs"].complete
    assert not rows["robbery"].complete
    cells = {c.criterion: c for c in rows["burglary"].criteria}
    assert cells["partnership_value"].score == 3 and cells["partnership_value"].who.startswith("CSP board workshop")
    # and a new workshop opens for the next round
    assert "Workshop 2" in analyst.get("/workshop").text
