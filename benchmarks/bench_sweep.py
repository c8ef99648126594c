"""The escalation sweep: 1,000 due stages among 1,000,000 open complaints against 10,000 open.

For each database (PostgreSQL and/or SQLite) and each backlog size, a child process builds the
benchmark organisation, one SLA policy (ladder: level 1 at the warning point, level 2 at
breach) and ``open`` complaints, each with one running ``department_return`` stage, loaded
with COPY (PostgreSQL) or ``executemany`` (SQLite) with the secondary indexes dropped during
the load. ``due`` of the stages are past their warning point; every other stage's next check
lies days ahead. A run is one ``escalations_sweep(now=..., limit=due)``: it reads the due ids
through the partial index ``sla_stage_check`` and fires level 1 of each (timeline event,
notifications to the assignee and the department's handlers, ``stage_escalated`` signal with
its receivers), in batches of 100 stages: one claim, one recipient lookup, one events and
one outbox insert and one commit per batch. Between runs, outside
the timing, the due rows are reset and the run's events and notifications deleted. Reported:
the median wall time of ``--runs`` runs (≥ 3) per size, the ratio big/small (the cost should
follow the number due, not the backlog), the median of as many further runs with the
receivers of ``stage_escalated`` (other apps', e.g. the early warnings) disconnected — the
SLA sweep's own share; the target applies to the full sweep — and the query plan of the
due-id query.

    .venv/bin/python benchmarks/bench_sweep.py [--quick] [--db sqlite|postgres|both] [--runs 3]

``--quick``: 20,000 against 2,000 open, 1,000 due. Databases are named ``kx_bench_sweep_<n>``
(PostgreSQL) or ``var/bench/kx_bench_sweep_<n>.sqlite3`` and rebuilt each time. ``main()``
returns ``{vendor: {"sizes": {open: median seconds}, "ratio", "index_scan", "ok", ...}}``;
``benchmarks/run.py`` calls it. Target: the 1,000-due sweep under 1 s at 1,000,000 open
complaints on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    BENCH_VAR,
    child_env,
    pg_reachable,
    pg_recreate,
    pg_url,
    run_child,
    sqlite_url,
)

TARGET_SECONDS = 1.0
DUE = 1000
FULL_SIZES = (1_000_000, 10_000)
QUICK_SIZES = (20_000, 2_000)
CHUNK = 5000


def log(message: str) -> None:
    print(f"[sweep] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- child: load and measure


def _row_values(model, values: dict, connection) -> list:
    """Every concrete column of ``model`` in field order: the given value, else the field's
    default, prepared for the database (so columns other apps add later load too)."""
    out = []
    for field in model._meta.concrete_fields:
        if field.attname in values:
            value = values[field.attname]
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        elif field.get_internal_type() in ("CharField", "TextField", "SlugField"):
            value = ""
        else:
            raise ValueError(f"{model.__name__}.{field.name}: no value for a NOT NULL column")
        out.append(field.get_db_prep_save(value, connection))
    return out


def _columns(model) -> list[str]:
    return [f'"{f.column}"' for f in model._meta.concrete_fields]


def _secondary_indexes(connection, table: str) -> list[tuple[str, str]]:
    from benchmarks.dataset import _secondary_indexes as found

    return found(connection, table)


def _bulk(connection, model, rows) -> None:
    table = model._meta.db_table
    columns = _columns(model)
    if connection.vendor == "postgresql":
        raw = connection.connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    raw = connection.connection
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            raw.executemany(sql, batch)
            batch.clear()
    if batch:
        raw.executemany(sql, batch)


def _load(open_count: int, due: int, now: datetime) -> dict:
    """Load ``open_count`` complaints with one running stage each; the first ``due`` stages
    (spread evenly through the table) are past their warning point."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from benchmarks.fixtures import build_org
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.sla.models import ComplaintStage, EscalationStep, SlaPolicy, SlaTarget

    call_command("migrate", interactive=False, verbosity=0)
    org = build_org()
    policy, _ = SlaPolicy.objects.get_or_create(
        code="bench-sweep", version=1, defaults={"name": "bench", "effective_from": now - timedelta(days=365)}
    )
    target, _ = SlaTarget.objects.get_or_create(
        policy=policy, stage="department_return", defaults={"amount": 4, "unit": "working_hours"}
    )
    EscalationStep.objects.get_or_create(
        policy=policy, level=1, defaults={"trigger": "warn", "notify_roles": ["assignee", "handler"]}
    )
    EscalationStep.objects.get_or_create(
        policy=policy, level=2, defaults={"trigger": "breach", "notify_roles": ["assignee", "handler", "lead"]}
    )
    department = org.handler_department
    centre = org.centres["a"]
    agent_id = org.agents[centre.pk][0]
    handler_id = org.handler.pk
    step = max(open_count // due, 1)

    def complaints():
        received = now - timedelta(days=2)
        for i in range(1, open_count + 1):
            yield _row_values(
                Complaint,
                {
                    "id": i,
                    "number": f"BS{i:012d}",
                    "channel": "phone",
                    "status": "processing",
                    "severity": "general",
                    "received_at": received,
                    "description": "手机信号弱",
                    "intake_department_id": centre.pk,
                    "department_id": department.pk,
                    "registered_by_id": agent_id,
                    "assignee_id": handler_id,
                    "due_at": now + timedelta(days=3),
                    "created_at": received,
                    "updated_at": received,
                    "dispatched_at": received,
                },
                connection,
            )

    def stages():
        for i in range(1, open_count + 1):
            is_due = i % step == 0 and i // step <= due
            started = now - timedelta(hours=6) if is_due else now - timedelta(hours=1)
            warn = now - timedelta(minutes=5) if is_due else now + timedelta(days=2, minutes=i % 1440)
            yield _row_values(
                ComplaintStage,
                {
                    "id": i,
                    "complaint_id": i,
                    "stage": "department_return",
                    "policy_id": policy.pk,
                    "target_id": target.pk,
                    "started_at": started,
                    "due_at": warn + timedelta(days=1),
                    "warn_at": warn,
                    "next_check_at": warn,
                },
                connection,
            )

    started = time.monotonic()
    tables = [ComplaintStage, Complaint]  # the database is new: nothing to empty
    synchronous = None
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
            cursor.execute("PRAGMA synchronous=OFF")  # a crash mid-load means reload anyway
    dropped = []
    for model in tables:
        for name, create in _secondary_indexes(connection, model._meta.db_table):
            dropped.append(create)
            with connection.cursor() as cursor:
                cursor.execute(f'DROP INDEX "{name}"')
    with transaction.atomic():
        _bulk(connection, Complaint, complaints())
        _bulk(connection, ComplaintStage, stages())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for model in tables:
                table = model._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {open_count})")
        for create in dropped:
            cursor.execute(create)
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        if synchronous is not None:
            cursor.execute(f"PRAGMA synchronous={int(synchronous)}")  # the sweep runs with the usual setting
    return {"load_seconds": round(time.monotonic() - started, 1), "due_ids": step}


def _reset(due_ids: list[int], now: datetime) -> None:
    """Put the due rows back before level 1 and delete what the last run wrote (not timed)."""
    from django.db import connection

    from kuaixiang.complaints.models import ComplaintEvent
    from kuaixiang.notify.models import Notification
    from kuaixiang.sla.models import ComplaintStage, DigestItem

    ComplaintStage.objects.filter(pk__in=due_ids).update(
        escalation_level=0, breached=False, next_check_at=now - timedelta(minutes=5)
    )
    ComplaintEvent.objects.filter(action="escalate").delete()
    Notification.objects.all().delete()
    DigestItem.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sla_complaintstage")


def _plan(now: datetime) -> str:
    from django.db import connection

    from kuaixiang.sla.models import ComplaintStage

    qs = ComplaintStage.objects.filter(next_check_at__lte=now).order_by("next_check_at").values_list("pk")[:DUE]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(r[0] for r in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(r[-1]) for r in cursor.fetchall())


def child(args) -> dict:
    import django

    django.setup()
    from django.db import connection

    from kuaixiang.sla.models import ComplaintStage
    from kuaixiang.sla.services import escalations_sweep
    from kuaixiang.sla.signals import stage_escalated

    now = datetime.now(UTC).replace(microsecond=0)
    loaded = _load(args.open, DUE, now)
    due_ids = list(ComplaintStage.objects.filter(next_check_at__lte=now).values_list("pk", flat=True))
    assert len(due_ids) == DUE, len(due_ids)
    times = []
    for run in range(args.runs):
        _reset(due_ids, now)
        started = time.perf_counter()
        fired = escalations_sweep(now=now, limit=DUE)
        times.append(time.perf_counter() - started)
        assert len(fired) == DUE and {f.level for f in fired} == {1}, (run, len(fired))
        log(f"{connection.vendor} {args.open:,} open: run {run + 1} {times[-1]:.3f} s")
    bare = []  # the same sweeps without the receivers of stage_escalated (their share)
    receivers = stage_escalated.receivers[:]
    stage_escalated.receivers.clear()
    stage_escalated.sender_receivers_cache.clear()
    try:
        for _ in range(args.runs):
            _reset(due_ids, now)
            started = time.perf_counter()
            escalations_sweep(now=now, limit=DUE)
            bare.append(time.perf_counter() - started)
    finally:
        stage_escalated.receivers[:] = receivers
        stage_escalated.sender_receivers_cache.clear()
    log(f"{connection.vendor} {args.open:,} open: without signal receivers {statistics.median(bare):.3f} s")
    plan = _plan(now)
    return {
        "open": args.open,
        "due": DUE,
        "runs": [round(t, 4) for t in times],
        "median": round(statistics.median(times), 4),
        "without_receivers": round(statistics.median(bare), 4),
        "plan": plan,
        "index_scan": "sla_stage_check" in plan,
        **loaded,
    }


# ---------------------------------------------------------------- parent: databases and table


def _measure(vendor: str, sizes: tuple[int, int], runs: int) -> dict:
    results = {}
    for size in sizes:
        name = f"kx_bench_sweep_{size}"
        if vendor == "postgresql":
            pg_recreate(name)
            url = pg_url(name)
        else:
            BENCH_VAR.mkdir(parents=True, exist_ok=True)
            path = BENCH_VAR / f"{name}.sqlite3"
            path.unlink(missing_ok=True)
            url = sqlite_url(path)
        log(f"{vendor}: loading {size:,} open complaints")
        results[size] = run_child("bench_sweep", ["--child", "--open", str(size), "--runs", str(runs)], child_env(url))
    big, small = sizes
    ratio = results[big]["median"] / results[small]["median"]
    return {
        "sizes": {str(k): v["median"] for k, v in results.items()},
        "runs": {str(k): v["runs"] for k, v in results.items()},
        "load_seconds": {str(k): v["load_seconds"] for k, v in results.items()},
        "without_receivers": {str(k): v["without_receivers"] for k, v in results.items()},
        "ratio": round(ratio, 2),
        "index_scan": results[big]["index_scan"],
        "plan": results[big]["plan"],
        "ok": results[big]["median"] < TARGET_SECONDS if vendor == "postgresql" else None,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 against 2,000 open complaints")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default=None)
    parser.add_argument("--runs", type=int, default=3, help="sweeps per size, median reported (≥ 3)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--open", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args)
        Path(args.json_out).write_text(json.dumps(result), encoding="utf-8")
        return result
    runs = max(args.runs, 3)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    wanted = args.db or ("both" if pg_reachable() else "sqlite")
    vendors = {"sqlite": ["sqlite"], "postgres": ["postgresql"], "both": ["postgresql", "sqlite"]}[wanted]
    if "postgresql" in vendors and not pg_reachable():
        log("PostgreSQL unreachable: skipped")
        vendors.remove("postgresql")
    out = {vendor: _measure(vendor, sizes, runs) for vendor in vendors}
    big, small = sizes
    print(f"escalation sweep, {DUE:,} due stages, median of {runs} runs (wall time)")
    print(
        f"| database | {big:,} open | {small:,} open | ratio | {big:,} open, no receivers "
        f"| index scan | target < {TARGET_SECONDS:g} s |"
    )
    print("|---|---|---|---|---|---|---|")
    for vendor, r in out.items():
        verdict = "—" if r["ok"] is None else ("PASS" if r["ok"] else "MISS")
        print(
            f"| {vendor} | {r['sizes'][str(big)]:.3f} s | {r['sizes'][str(small)]:.3f} s | {r['ratio']:.2f} "
            f"| {r['without_receivers'][str(big)]:.3f} s | {'yes' if r['index_scan'] else 'NO'} | {verdict} |"
        )
    for vendor, r in out.items():
        print(f"\n{vendor} plan of the due-id query ({big:,} open):\n{r['plan']}")
    return {"due": DUE, "sizes": list(sizes), "runs": runs, **out}


if __name__ == "__main__":
    main()
