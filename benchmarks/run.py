"""``make bench``: intake over HTTP and list/search at 1M complaints, on SQLite and PostgreSQL.

Prints one markdown table (medians of ``--repeat`` runs) and writes
``benchmarks/results/latest.json`` with every run, sample count and query plan.
See ``benchmarks/README.md`` for what is measured and how.
"""

import argparse
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    BENCH_VAR,
    RESULTS,
    ROOT,
    child_env,
    log,
    pg_exists,
    pg_reachable,
    pg_recreate,
    pg_url,
    run_child,
    sqlite_url,
    write_json,
)
from benchmarks.intake import BULK_SIZE, ServerConfig, run_intake  # noqa: E402

TARGET_BULK_PER_S = 2000
TARGET_SINGLE_P99_MS = 50
TARGET_SINGLE_CONCURRENCY = 8
TARGET_QUEUE_MS = 100
# Parts that run as their own module ``benchmarks/bench_<part>.py``: ``main(argv)`` takes
# ``--quick`` and ``--db sqlite|postgres|both``, prints its own table and returns a dict for latest.json.
MODULE_PARTS = ["worktime", "sweep", "classifier", "grading", "dedup", "alerts", "crisis", "remedies"]
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], help="default: both where PostgreSQL is up")
    parser.add_argument("--rows", type=int, help="complaints in the list/search database (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 rows, 2-3 s per intake cell")
    parser.add_argument("--repeat", type=int, help="runs per measurement, medians reported (default 3; quick 1)")
    parser.add_argument("--reload", action="store_true", help="reload the list/search database even if it matches")
    parser.add_argument(
        "--parts",
        default=",".join(["intake", "list", *MODULE_PARTS]),
        help="comma-separated: intake, list, " + ", ".join(MODULE_PARTS) + " (classifier needs ../shared/data)",
    )
    parser.add_argument("--concurrency", help="intake concurrencies (default 1,8,32; quick 1,8)")
    parser.add_argument("--single-seconds", type=float, help="measurement window per single-create cell (5)")
    parser.add_argument("--bulk-seconds", type=float, help="measurement window per bulk cell (8)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 4)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    parser.add_argument(
        "--worker-class", choices=["gthread", "sync"], default=os.environ.get("BENCH_WORKER_CLASS", "sync")
    )
    args = parser.parse_args(argv)
    args.rows = args.rows or (20_000 if args.quick else 1_000_000)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.single_seconds = args.single_seconds or (2 if args.quick else 5)
    args.bulk_seconds = args.bulk_seconds or (3 if args.quick else 6)
    args.warmup = 0.5 if args.quick else 1.0
    args.concurrency = args.concurrency or ("1,8" if args.quick else "1,8,32")
    args.parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    args.concurrencies = [int(c) for c in args.concurrency.split(",")]
    return args


def databases(choice: str | None) -> tuple[list[str], str]:
    up = pg_reachable()
    if choice == "postgres" and not up:
        sys.exit("PostgreSQL is not reachable (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres)")
    if choice in ("sqlite", "postgres"):
        return [choice], ""
    if choice == "both" and not up:
        sys.exit("PostgreSQL is not reachable: --db both needs it")
    return (["sqlite", "postgres"], "") if up else (["sqlite"], "PostgreSQL not reachable: SQLite only")


def list_database(db: str, rows: int, reload: bool) -> tuple[str, dict[str, str]]:
    """The persistent list/search database for ``rows`` (one per size, so --quick keeps the 1M one)."""
    var = BENCH_VAR / "var"
    var.mkdir(parents=True, exist_ok=True)
    if db == "postgres":
        name = f"kx_bench_list_{rows}"
        if reload or not pg_exists(name):
            pg_recreate(name)
        url = pg_url(name)
    else:
        path = BENCH_VAR / f"kx_bench_list_{rows}.sqlite3"
        if reload:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = sqlite_url(path)
    return url, child_env(url, str(var))


def run_list(db: str, args) -> dict:
    url, env = list_database(db, args.rows, args.reload)
    dataset = run_child("dataset", ["--rows", str(args.rows), "--label", db], env)
    measured = run_child("listing", ["--repeat", str(args.repeat), "--label", db], env)
    return {"database": db, "dataset": dataset, **measured}


# ------------------------------------------------------------------ table


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    if value != value:
        return "–"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _cpu(app: float, db: float) -> str:
    """Server CPU per complaint: gunicorn workers (+ PostgreSQL backends)."""
    if app != app:
        return ""
    precision = 2 if app < 1 else 1
    return f" · CPU {app:.{precision}f}" + (f"+{db:.{precision}f}" if db == db else "") + " ms"


def _verdict(ok: bool, detail: str) -> str:
    return f"**{'PASS' if ok else 'MISS'}** {detail}"


def intake_rows(results: dict, dbs: list[str], concurrencies: list[int]) -> list[list[str]]:
    rows = []
    for mode in ("single", "bulk"):
        for c in concurrencies:
            label = f"intake: single create, c={c}" if mode == "single" else f"intake: bulk {BULK_SIZE}/request, c={c}"
            cells, target = [], ""
            for db in dbs:
                s = results.get(db, {}).get("summary", {}).get(f"{mode}/{c}")
                if not s:
                    cells.append("–")
                    continue
                err = f" · **{s['errors']} failed**" if s["errors"] else ""
                cpu = _cpu(s.get("app_cpu_ms", float("nan")), s.get("db_cpu_ms", float("nan")))
                cells.append(
                    f"{_n(s['complaints_per_s'])}/s · p50 {_ms(s['p50_ms'])} · p99 {_ms(s['p99_ms'])} ms{cpu}{err}"
                )
                if db == "postgres" and mode == "single" and c == TARGET_SINGLE_CONCURRENCY:
                    ok = s["p99_ms"] < TARGET_SINGLE_P99_MS and not s["errors"]
                    target = _verdict(ok, f"p99 < {TARGET_SINGLE_P99_MS} ms")
                if db == "postgres" and mode == "bulk":
                    ok = s["complaints_per_s"] >= TARGET_BULK_PER_S and not s["errors"]
                    target = _verdict(ok, f"≥ {TARGET_BULK_PER_S:,}/s")
            rows.append([label, *cells, target])
    return rows


def list_rows(results: dict, dbs: list[str]) -> list[list[str]]:
    keys: list[str] = []
    for db in dbs:
        for key in results.get(db, {}).get("scenarios", {}):
            if key not in keys:
                keys.append(key)
    rows = []
    for key in keys:
        label, cells, target = key, [], ""
        for db in dbs:
            s = results.get(db, {}).get("scenarios", {}).get(key)
            if not s:
                cells.append("–")
                continue
            label = s["label"]
            cells.append(f"p50 {_ms(s['p50_ms'])} · p99 {_ms(s['p99_ms'])} ms · {s['rows']} rows · {s['queries']} q")
            if db == "postgres" and s.get("target_ms"):
                target = _verdict(
                    s["p50_ms"] < s["target_ms"] and s["p99_ms"] < s["target_ms"], f"< {s['target_ms']:.0f} ms"
                )
        rows.append([f"list: {label}", *cells, target])
    n_plus_1 = []
    for db in dbs:
        scenarios = results.get(db, {}).get("scenarios", {})
        if not scenarios:
            n_plus_1.append("–")
            continue
        bad = [k for k, s in scenarios.items() if not s["no_n_plus_1"]]
        n_plus_1.append("same at 10 and 50 rows in every row" if not bad else "grows with rows: " + ", ".join(bad))
    if "postgres" in dbs and results.get("postgres", {}).get("scenarios"):
        ok = all(s["no_n_plus_1"] for s in results["postgres"]["scenarios"].values())
        rows.append(["list: query count per page (N+1 check)", *n_plus_1, _verdict(ok, "no N+1")])
    elif any(c != "–" for c in n_plus_1):
        rows.append(["list: query count per page (N+1 check)", *n_plus_1, ""])
    return rows


def render_table(out: dict, args, dbs: list[str]) -> str:
    header = ["measurement", *[NAMES[d] for d in dbs], "target (PostgreSQL)"]
    body = []
    if out["intake"]:
        body += intake_rows(out["intake"], dbs, args.concurrencies)
    if out["list"]:
        body += list_rows(out["list"], dbs)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def notes(out: dict, args, dbs: list[str], skipped: str) -> list[str]:
    env = out["environment"]
    lines = [
        f"Intake cells: medians of {args.repeat} consecutive window(s) under continuous load. "
        f"Machine: {env['cpus']} CPUs (shared), load average "
        f"{env['load_before']} before / {env['load_after']} after; {env['postgres'] or 'no PostgreSQL'}; "
        f"SQLite {env['sqlite']}; commit {env['commit']}.",
    ]
    if out["intake"]:
        server = next(iter(out["intake"].values()))["server"]
        lines.append(
            f"Intake: {server}; closed-loop load from Python threads (http.client, keep-alive where the "
            "server allows) on the same machine; "
            f"{args.single_seconds:g} s (single) / {args.bulk_seconds:g} s (bulk) windows after warm-up; "
            "a fresh database per run of the harness; every request checked (201, or 200 with 1,000 created). "
            "'CPU a+b ms' = CPU time per complaint of the gunicorn workers (a) and the PostgreSQL backends (b) "
            "in the window, from /proc: capacity on two idle cores is about 2,000 / (a+b) complaints/s."
        )
    if out["list"]:
        parts = []
        for db in dbs:
            data = out["list"].get(db)
            if data:
                d = data["dataset"]
                how = "reused" if d["reused"] else f"loaded in {d['load_seconds']} s"
                parts.append(f"{NAMES[db]} {d['rows']:,} rows ({how}, {d['text_source']})")
        lines.append(
            "List/search: in-process through selectors.complaints_page + present.list_item, 50 rows a page, "
            "warm cache, fresh scope lookups per sample; 'q' = SQL queries per page including the data-scope lookups; "
            f"p50/p99 over {10 * args.repeat} samples per row (fewer, ≥ 3, when a row exceeds 12 s), "
            "so p99 is close to the maximum. " + "; ".join(parts) + "."
        )
    if skipped:
        lines.append(skipped)
    return lines


def run_module_part(part: str, args) -> dict | None:
    import importlib

    try:
        module = importlib.import_module(f"benchmarks.bench_{part}")
    except ModuleNotFoundError:
        log(f"{part}: benchmarks/bench_{part}.py not present, skipped")
        return None
    if part == "worktime":  # the pure kernel: no database
        return module.main(["--runs", "2", "--size", "2000"] if args.quick else [])
    argv = ["--quick"] if args.quick else []
    if part != "classifier" and args.db:
        argv += ["--db", args.db]
    return module.main(argv)


def environment() -> dict:
    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    pg_version = ""
    if pg_reachable():
        import psycopg

        from benchmarks.common import _libpq, pg_admin_url

        with psycopg.connect(_libpq(pg_admin_url())) as conn:
            pg_version = "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]
    dirty = "+changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return {
        "cpus": os.cpu_count(),
        "load_before": f"{os.getloadavg()[0]:.1f}",
        "python": platform.python_version(),
        "postgres": pg_version,
        "sqlite": sqlite3.sqlite_version,
        "commit": git("rev-parse", "--short", "HEAD") + dirty,
    }


def main(argv=None) -> None:
    args = parse_args(argv)
    dbs, skipped = databases(args.db)
    if not shutil.which("gunicorn", path=str(ROOT / ".venv" / "bin")) and "intake" in args.parts:
        sys.exit("gunicorn missing from .venv: run `make setup`")
    started = time.monotonic()
    out = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "arguments": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
        "environment": environment(),
        "intake": {},
        "list": {},
    }
    server = ServerConfig(args.workers, args.threads, args.worker_class)
    if "intake" in args.parts:
        for db in dbs:
            out["intake"][db] = run_intake(
                db,
                concurrencies=args.concurrencies,
                repeat=args.repeat,
                single_seconds=args.single_seconds,
                bulk_seconds=args.bulk_seconds,
                warmup=args.warmup,
                server=server,
            )
    if "list" in args.parts:
        for db in dbs:
            out["list"][db] = run_list(db, args)
    # The module parts print their own tables; their figures also go into latest.json.
    for part in MODULE_PARTS:
        if part in args.parts:
            out[part] = run_module_part(part, args)
    out["environment"]["load_after"] = f"{os.getloadavg()[0]:.1f}"
    out["seconds"] = round(time.monotonic() - started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / "latest.json", out)
    table = render_table(out, args, dbs)
    print()
    print(f"## kuaixiang benchmark ({out['started_at']}, {out['seconds']} s)")
    print()
    print(table)
    print()
    for line in notes(out, args, dbs, skipped):
        print(f"- {line}")
    log(f"results: {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
