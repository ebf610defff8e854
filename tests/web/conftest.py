"""Web tests: one workspace with real police data and synthetic partner data, built once per test run.

The app database runs on SQLite and on PostgreSQL (a throwaway cluster started once per test session as the
postgres user on a loopback port). Findings are computed once per session and shared by every app (they depend
only on the workspace), so each test pays only for what it does.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cspkit.ingest import ingest_paths
from cspkit.synth import generate
from cspkit.web.analysis import AnalysisCache
from cspkit.web.app import create_app
from cspkit.web.security import add_user
from cspkit.web.settings import Settings
from cspkit.workspace import Workspace, init_workspace

REPO = Path(__file__).resolve().parents[2]
POLICE_ZIP = REPO / "demo" / "police" / "bedfordshire-2021-05_2023-04.zip"
PASSWORD = "correct horse battery staple"
PGBIN = Path("/usr/lib/postgresql/15/bin")

#: One user per role (the data owner belongs to the housing provider).
USERS = {
    "administrator": "admin@csp.example",
    "analyst": "analyst@csp.example",
    "data-owner": "owner@housing.example",
    "board": "board1@csp.example",
    "public": "reader@public.example",
}

# Planted identifiers of the upload file: none may appear in clear in a page, a log or the app database.
CANARY_NAME = "Zebedee Quorrington"
CANARY_REF = "QX-CANARY-77141"
CANARY_DOB = "1961-02-17"
CANARY_POSTCODE = "LU7 3QZ"
CANARIES = (CANARY_NAME, "Quorrington", CANARY_REF, CANARY_DOB, CANARY_POSTCODE)


def asb_upload_csv() -> tuple[bytes, int, int]:
    """A housing provider's ASB export: 12 rows, 3 of them bad (planted). Returns the bytes, rows read, accepted."""
    header = (
        "incident_ref,reported_at,category,agency,asb_type,victim_ref,victim_name,victim_dob,victim_postcode,"
        "risk_level,lsoa_code\n"
    )
    rows = []
    for i in range(12):
        category = "personal" if i % 2 else "nuisance"
        when = f"2023-{1 + i % 4:02d}-{10 + i:02d} 14:{i:02d}"
        lsoa = "E01017576"
        if i == 3:
            category = "loud"  # not an allowed category
        if i == 7:
            when = "yesterday"  # not a date
        if i == 10:
            lsoa = "X0101"  # not an LSOA code
        rows.append(
            f"HSG-{i:04d},{when},{category},housing,Noise,{CANARY_REF}-{i % 3},{CANARY_NAME},{CANARY_DOB},"
            f"{CANARY_POSTCODE},standard,{lsoa}\n"
        )
    return (header + "".join(rows)).encode("utf-8"), 12, 9


def _build_template(root: Path) -> None:
    init_workspace(root, name="Central Bedfordshire Community Safety Partnership", area_codes=["E06000056"])
    ws = Workspace(root)
    partner = root.parent / "partner-data"
    generate(partner, seed=1, years=2, end_month="2023-04")
    con = ws.connect()
    try:
        for paths in ([POLICE_ZIP], [partner]):
            report = ingest_paths(con, paths, key=ws.key())
            assert report.ok, report.errors
    finally:
        con.close()


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The loaded workspace, built once for all xdist workers (a file lock in their shared temp folder)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "web-template" / "ws"
    with (shared / "web-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "DONE").exists():
            shutil.rmtree(root.parent, ignore_errors=True)
            root.parent.mkdir(parents=True)
            _build_template(root)
            (root / "DONE").write_text("ok")
        fcntl.flock(lock, fcntl.LOCK_UN)
    return root


@pytest.fixture(scope="session")
def web_workspace(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """This session's copy of the workspace (read by most tests; uploads go to their own copies)."""
    root = tmp_path_factory.mktemp("webws") / "ws"
    shutil.copytree(web_template, root, ignore=shutil.ignore_patterns("DONE", "partner-data"))
    return Workspace(root)


@pytest.fixture(scope="session")
def shared_cache(web_workspace: Workspace) -> AnalysisCache:
    return AnalysisCache(web_workspace, threading.Lock())


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Argon2 with test-sized cost (production keeps argon2-cffi's defaults): sign-ins are many in these tests."""
    from argon2 import PasswordHasher

    from cspkit.web import security

    saved = security._HASHER
    security._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._HASHER = saved


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL 15 cluster on a loopback port, started as the postgres user (initdb refuses root)."""
    if not (PGBIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 is not installed (make setup installs it)")
    folder = Path(tempfile.mkdtemp(prefix="cspkit-pg-"))
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = folder / "data"
    run = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    subprocess.run([*as_pg, str(PGBIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync",
                    "-E", "UTF8"], **run)  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run([*as_pg, str(PGBIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                    "-w", "start"], **run)  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_pg, str(PGBIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


_PG_DATABASES = iter(range(1, 10_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty app database on SQLite and on PostgreSQL (one database per test)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'web.sqlite3'}"
    import psycopg

    base = request.getfixturevalue("postgres_url")
    name = f"cspkit_test_{os.getpid()}_{next(_PG_DATABASES)}"
    dsn = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name


@dataclass
class WebApp:
    """A running app (in-process) with its settings and one helper to sign a user in."""

    app: object
    settings: Settings
    ws: Workspace

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver")  # type: ignore[arg-type]

    def signed_in(self, role: str) -> TestClient:
        return sign_in(self.client(), USERS[role])

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.app.state.web  # type: ignore[attr-defined]


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/sign-in")
    token = csrf_of(page.text)
    response = client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text[:500]
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF input in the page"
    return found.group(1)


def make_settings(url: str, **kw: object) -> Settings:
    base: dict[str, object] = {
        "database_url": url,
        "secret_key": b"test secret key of the web app!!",
        "allowed_hosts": ["testserver", "127.0.0.1", "localhost"],
        "secure_cookies": False,
    }
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


def seeded_cache(ws: Workspace, shared: AnalysisCache) -> AnalysisCache:
    """A cache for a copy of the shared workspace, starting from the shared findings (the copy's warehouse is the
    same file content, so its findings are the same; anything the test then changes is recomputed as usual)."""
    import dataclasses

    from cspkit.web.analysis import state_key

    cache = AnalysisCache(ws, threading.Lock())
    cache._current = dataclasses.replace(shared.get(), key=state_key(ws), figures={})
    return cache


@pytest.fixture
def make_web(shared_cache: AnalysisCache, web_workspace: Workspace) -> Callable[..., WebApp]:
    """Build an app over the shared workspace (or another) on a given database, with one user per role."""

    def make(url: str, ws: Workspace | None = None, **kw: object) -> WebApp:
        ws = ws or web_workspace
        settings = make_settings(url, **kw)
        cache = shared_cache if ws is web_workspace else seeded_cache(ws, shared_cache)
        app = create_app(ws, settings, warm=False, cache=cache)
        db = app.state.web.sessions()
        try:
            for role, email in USERS.items():
                add_user(db, email, role, PASSWORD, "Central Bedfordshire Housing" if role == "data-owner" else None)
        finally:
            db.close()
        return WebApp(app, settings, ws)

    return make


@pytest.fixture
def web(make_web: Callable[..., WebApp], tmp_path: Path) -> WebApp:
    """An app on SQLite over the shared workspace."""
    return make_web(f"sqlite:///{tmp_path / 'web.sqlite3'}")


@pytest.fixture
def own_workspace(web_template: Path, tmp_path: Path) -> Workspace:
    """A private copy of the loaded workspace, for tests that change it (uploads, workshop records)."""
    root = tmp_path / "own" / "ws"
    shutil.copytree(web_template, root, ignore=shutil.ignore_patterns("DONE", "partner-data"))
    return Workspace(root)
