"""Helpers shared by the harness parts: paths, database URLs, child processes, statistics.

Nothing here imports Django: ``run.py`` stays free of settings and starts one child process
per database, each with its own ``DATABASE_URL``.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
RESULTS = ROOT / "benchmarks" / "results"
# Persistent list databases (SQLite files) live beside the app's own var files, git-ignored.
BENCH_VAR = ROOT / "var" / "bench"
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"


def pin_one_core() -> int | None:
    """Pin this process to one CPU (for per-core figures on a quiet machine); return it, or None."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def pg_admin_url() -> str:
    return os.environ.get("BENCH_PG_URL", PG_DEFAULT)


def pg_url(dbname: str) -> str:
    parts = urlsplit(pg_admin_url())
    return urlunsplit(parts._replace(path="/" + dbname))


def pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(_libpq(pg_admin_url()), connect_timeout=3):
            return True
    except Exception:
        return False


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def pg_execute(sql: str, dbname: str | None = None) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg

    url = pg_url(dbname) if dbname else pg_admin_url()
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(sql)


def pg_recreate(dbname: str) -> None:
    assert dbname.startswith("kx_bench_"), dbname  # never touch anything but our own databases
    pg_execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    pg_execute(f'CREATE DATABASE "{dbname}"')


def pg_exists(dbname: str) -> bool:
    import psycopg

    with psycopg.connect(_libpq(pg_admin_url()), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is not None


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def child_env(database_url: str, var_dir: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for a Django child process: production settings (not demo, not debug)."""
    env = {k: v for k, v in os.environ.items() if k not in {"KX_DEMO", "DEBUG", "KX_TESTING", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="kuaixiang.settings",
        DATABASE_URL=database_url,
        SECRET_KEY="bench-only-secret-key-not-for-production",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        KX_VAR_DIR=var_dir or tempfile.mkdtemp(prefix="kx-bench-var-"),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run_child(module: str, args: list[str], env: dict[str, str], *, timeout: float | None = None) -> dict:
    """Run ``python -m benchmarks.<module>``; it writes one JSON document to the file we pass."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    try:
        cmd = [PYTHON, "-m", f"benchmarks.{module}", "--json-out", str(out), *args]
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, timeout=timeout)
        return json.loads(out.read_text(encoding="utf-8"))
    finally:
        out.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 30 samples is the largest one: said so in the table note)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def write_json(path: str | Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
