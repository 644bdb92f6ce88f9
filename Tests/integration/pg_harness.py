"""PostgreSQL for the integration tests: throw-away clusters (Tests/pg/pg-server.sh) and the
`backend` parameter that runs each application test on the embedded SQLite file and on
PostgreSQL. conftest.py makes the fixtures `pg_cluster` and `backend` visible to every module."""
import itertools
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_SERVER = Path(__file__).resolve().parents[1] / "pg" / "pg-server.sh"
_FIELD = "\x1f"     # psql's field separator in query(): a byte no test value holds


def _number_or_text(value):
    return int(value) if re.fullmatch(r"-?\d+", value) else value


class PgCluster:
    """One cluster made by pg-server.sh in `directory` (under /tmp: the server runs as the user
    pgtest, who must reach it). `listen` is PG_LISTEN_ADDRESSES (default 127.0.0.1)."""
    _names = itertools.count(1)

    def __init__(self, directory: Path, listen=None):
        self.directory = Path(directory)
        self.listen = listen
        self.port = None

    def _script(self, *args, check=True, timeout=60):
        env = dict(os.environ)
        if self.listen:
            env["PG_LISTEN_ADDRESSES"] = self.listen
        done = subprocess.run(["bash", str(PG_SERVER), *args], env=env, capture_output=True, text=True,
                              timeout=timeout)
        if check:
            assert done.returncode == 0, f"pg-server.sh {args[0]} failed: {done.stderr}"
        return done

    def start(self):
        """Starts it (on the port it had, once it has one) and waits until it accepts connections."""
        url = self._script("start", str(self.directory), *([str(self.port)] if self.port else [])).stdout.strip()
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])
        return url

    def stop(self):
        self._script("stop", str(self.directory))

    def restart(self):
        self._script("restart", str(self.directory))

    @property
    def password(self) -> str:
        return (self.directory / "password").read_text().strip()

    def url(self, database="rtutils", host="127.0.0.1", port=None) -> str:
        return f"postgresql://rtutils@{host}:{port or self.port}/{database}"

    def env(self, database="rtutils", host="127.0.0.1") -> dict:
        """What the server and the CLI need to use `database` (the password as libpq reads it)."""
        return {"DATABASE_URL": self.url(database, host), "PGPASSWORD": self.password}

    def psql(self, *args, database="rtutils", check=True):
        """psql as the superuser over the unix socket."""
        done = self._script("psql", str(self.directory), "-d", database, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                            *args, check=False)
        if check:
            assert done.returncode == 0, f"psql {args}: {done.stderr}"
        return done

    def query(self, sql, database="rtutils") -> list:
        """The rows of `sql` as tuples; whole numbers as int, the rest as text."""
        out = self.psql("-tA", "-F", _FIELD, "-c", sql, database=database).stdout
        return [tuple(_number_or_text(v) for v in line.split(_FIELD)) for line in out.splitlines() if line]

    def create_database(self) -> str:
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.psql("-c", f"CREATE DATABASE {name} OWNER rtutils", database="postgres")
        return name

    def drop_database(self, name):
        self.psql("-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", database="postgres")


def make_pg_cluster(listen=None) -> PgCluster:
    """A started cluster in a fresh directory under /tmp (pytest's own tmp dirs are root's
    alone). Stop it with stop_pg_cluster."""
    cluster = PgCluster(tempfile.mkdtemp(prefix="rtu-pg-", dir="/tmp"), listen)
    try:
        cluster.start()
    except BaseException:
        shutil.rmtree(cluster.directory, ignore_errors=True)
        raise
    return cluster


def stop_pg_cluster(cluster: PgCluster):
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster():
    """One PostgreSQL cluster for the whole session, started when a test first needs it."""
    cluster = make_pg_cluster()
    yield cluster
    stop_pg_cluster(cluster)


class Backend:
    """The database a test's server and CLI use. `sqlite`: the file under WORKING_DIR, as
    without DATABASE_URL. `postgresql`: a fresh database of its own in the session cluster."""

    def __init__(self, name, workdir: Path, cluster: PgCluster = None):
        self.name = name
        self.workdir = workdir
        self.cluster = cluster
        self.database = cluster.create_database() if cluster else None
        self._others = []

    @property
    def is_postgresql(self) -> bool:
        return self.cluster is not None

    def env(self) -> dict:
        return self.cluster.env(self.database) if self.cluster else {"DATABASE_URL": None}

    def query(self, sql) -> list:
        """The rows of `sql` in the test's database, as tuples (numbers as int)."""
        if self.cluster:
            return self.cluster.query(sql, self.database)
        with sqlite3.connect(self.workdir / "var" / "database.sqlite") as db:
            return [tuple(row) for row in db.execute(sql)]

    def execute(self, *statements):
        if self.cluster:
            self.cluster.psql(*(a for sql in statements for a in ("-c", sql)), database=self.database)
            return
        with sqlite3.connect(self.workdir / "var" / "database.sqlite") as db:
            for sql in statements:
                db.execute(sql)

    def another(self, workdir: Path) -> "Backend":
        """A second, empty database of the same kind (its SQLite file under `workdir`)."""
        other = Backend(self.name, workdir, self.cluster)
        self._others.append(other)
        return other

    def drop(self):
        for other in self._others:
            other.drop()
        if self.cluster:
            self.cluster.drop_database(self.database)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path, monkeypatch):
    """Runs a test once per database backend. The choice reaches every process the test starts
    (servers, `migrate`, any CLI) through the environment: DATABASE_URL and PGPASSWORD for
    PostgreSQL, no DATABASE_URL for SQLite."""
    cluster = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    chosen = Backend(request.param, tmp_path, cluster)
    for name, value in chosen.env().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    try:
        yield chosen
    finally:
        chosen.drop()
