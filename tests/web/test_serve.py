"""`cspkit serve` itself, as a user starts it: its own process, the workspace's own app database and secret.

One server for the session; the test signs in from the outside with the one-time password that `cspkit user add`
printed (as `make serve` does for the first administrator), replaces it, and signs out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import _free_port, csrf_of

ADMIN = "first.admin@csp.example"


def _cspkit(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cspkit", *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture(scope="session")
def served(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    root = tmp_path_factory.mktemp("served") / "ws"
    shutil.copytree(web_template, root, ignore=shutil.ignore_patterns("DONE", "partner-data"))
    # The defaults a user gets: SQLite and the secret in the workspace's private folder.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSPKIT_")}
    env["COLUMNS"] = "200"  # one line per message from the console
    added = _cspkit("user", "add", ADMIN, "--role", "administrator", "--workspace", str(root), env=env)
    assert added.returncode == 0, added.stdout + added.stderr
    password = re.search(r"One-time password: (\S+)", added.stdout).group(1)  # type: ignore[union-attr]
    port = _free_port()
    log = root.parent / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cspkit", "serve", "--workspace", str(root), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:  # it answers at once; the findings are computed in the background ("warming")
            try:
                if httpx.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "cspkit serve did not answer in 2 minutes:\n" + log.read_text()
            time.sleep(0.2)
        yield {"base": base, "password": password, "root": root, "log": log, "env": env}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def test_cspkit_serve_answers_and_signs_in(served: dict) -> None:
    base, one_time = served["base"], served["password"]
    assert httpx.get(base + "/healthz").text in ("ok", "warming")
    refused = httpx.get(base + "/users", headers={"Host": "evil.example"})
    assert refused.status_code == 400  # host check
    with httpx.Client(base_url=base, timeout=60) as client:
        anonymous = client.get("/users")
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/sign-in?next=%2Fusers"
        page = client.get("/sign-in")
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        signed = client.post(
            "/sign-in",
            data={"email": ADMIN, "password": one_time, "csrf_token": csrf_of(page.text), "next": "/users"},
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/change-password?next=%2Fusers"
        cookie = next(v for k, v in signed.headers.multi_items() if k == "set-cookie" and "cspkit_session=" in v)
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Secure" not in cookie  # loopback
        form = client.get("/change-password")
        new = "the administrator's own words"
        changed = client.post(
            "/change-password",
            data={"csrf_token": csrf_of(form.text), "current_password": one_time, "new_password": new,
                  "confirm_password": new, "next": "/users"},
        )  # fmt: skip
        assert changed.status_code == 303 and changed.headers["location"] == "/users"
        users = client.get("/users")
        assert users.status_code == 200 and ADMIN in users.text
        out = client.post("/sign-out", data={"csrf_token": csrf_of(users.text)})
        assert out.status_code == 303 and out.headers["location"] == "/sign-in"
        assert client.get("/users").status_code == 303
    # From the shell, over the same app database: the audit chain holds the round trip, and the log has no secret.
    verified = _cspkit("audit", "verify", "--workspace", str(served["root"]), env=served["env"])
    assert verified.returncode == 0 and "is intact" in verified.stdout, verified.stdout + verified.stderr
    log = Path(served["log"]).read_text()
    assert "Serving Central Bedfordshire Community Safety Partnership on http://127.0.0.1:" in log
    assert one_time not in log and new not in log and "Traceback" not in log
