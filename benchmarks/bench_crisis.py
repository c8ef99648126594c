"""Crisis: warning → incident latency, and the hourly series with 1,000,000 complaints in the database.

Latency: a count rule whose level 3 opens the ``telecom_crisis`` playbook; complaints are
registered through ``complaint_register_bulk`` until the batch that crosses the threshold raises
the warning. The latency is ``incident.activated_at − warning.raised_at`` (both from the same
wall clock): the warning is raised inside the intake transaction, the crisis receiver enqueues
the opening on commit, and a Huey task opens the incident. Measured three ways, five warnings
each (median and max):

* ``immediate``: Huey immediate mode (the task runs in the committing process, as in tests);
* ``redis``: the real path — RedisHuey and a ``run_huey`` consumer in its own process;
* ``sqlite-queue``: the zero-configuration SqliteHuey queue with a default consumer (it polls
  with back-off up to 10 s when idle, which is why production uses Redis).

Hourly series: ``N`` complaints (1,000,000; ``--quick`` 100,000) loaded by ``benchmarks.dataset``,
ten incidents with 20,000 linked complaints each over 72 hours (200,000 link rows), then the
series of one incident (``crisis.selectors.hourly_figures``, one grouped range scan on the
``(incident, received_at)`` index) timed 30 times; the whole API detail too. The databases are
kept between runs (``kx_bench_crisis_<rows>`` or ``var/bench/kx_bench_crisis_<rows>.sqlite3``).

    .venv/bin/python benchmarks/bench_crisis.py [--quick] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    BENCH_VAR,
    PYTHON,
    child_env,
    log,
    median,
    pg_execute,
    pg_exists,
    pg_reachable,
    pg_url,
    run_child,
    sqlite_url,
)

LATENCY_TARGET_S = 5.0
SERIES_TARGET_MS = 200.0
INCIDENTS, LINKS_PER_INCIDENT, HOURS = 10, 20_000, 72
WARNINGS = 5
THRESHOLD = 40  # level 3 of the bench rule


# ---------------------------------------------------------------- latency child


def _latency_world():
    from django.contrib.auth import get_user_model

    from kuaixiang.alerts.models import WarningRule
    from kuaixiang.org.models import Department, Staff
    from kuaixiang.rulepacks import rulepack_load
    from kuaixiang.triage.models import Category

    rulepack_load(ROOT / "rulepacks" / "telecom" / "playbooks.yaml")
    hq = Department.objects.create(name="总部", code="bench-hq", level="hq")
    centre = Department.objects.create(
        name="客服中心", code="bench-centre", level="department", parent=hq, function="complaint_centre"
    )
    leaders = Department.objects.create(
        name="领导小组", code="bench-leaders", level="department", parent=hq, function="leadership"
    )
    agent = get_user_model().objects.create_user("bench-agent")
    Staff.objects.create(user=agent, department=centre, role="agent")
    Staff.objects.create(user=get_user_model().objects.create_user("bench-manager"), department=centre, role="manager")
    Staff.objects.create(user=get_user_model().objects.create_user("bench-leader"), department=leaders, role="leader")
    leaves = []
    for w in range(WARNINGS + 1):  # the first warning warms the consumer up and is not counted
        parent = None
        for depth in range(5):
            parent = Category.objects.create(name=f"类{w}-{depth + 1}", code=f"bench-{w}-{depth}", parent=parent)
        leaves.append(parent)
    WarningRule.objects.create(
        code="bench-cat5",
        name="五级分类单日",
        group_by="category",
        category_level=5,
        window_kind="calendar_day",
        levels=[{"level": 3, "at": THRESHOLD, "notify": []}],
    )
    return agent, leaves


def latency_child(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from kuaixiang.alerts.models import Warning
    from kuaixiang.complaints.intake import parse_complaint_input
    from kuaixiang.complaints.services import complaint_register_bulk
    from kuaixiang.crisis.models import Incident

    agent, leaves = _latency_world()
    consumer = None
    if args.mode != "immediate":
        env = dict(os.environ)
        consumer = subprocess.Popen(  # noqa: S603
            [PYTHON, "manage.py", "run_huey", "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
        )
        time.sleep(3)  # the consumer starts and goes idle (its polling back-off then applies)
    latencies = []
    try:
        for w, leaf in enumerate(leaves):
            items = [
                parse_complaint_input(
                    {"channel": "phone", "anonymous": True, "description": f"信号差 {w}-{i}", "category_id": leaf.pk}
                )
                for i in range(THRESHOLD)
            ]
            complaint_register_bulk(actor=agent, items=items)
            warning = Warning.objects.get(category=leaf)
            deadline = time.monotonic() + 30
            incident = None
            while incident is None and time.monotonic() < deadline:
                incident = Incident.objects.filter(warning_id=warning.pk).first()
                if incident is None:
                    time.sleep(0.02)
            if incident is None:
                latencies.append(None)
                continue
            if w:
                latencies.append((incident.activated_at - warning.raised_at).total_seconds())
            if consumer is not None:
                time.sleep(2)  # let the consumer go idle again between warnings
    finally:
        if consumer is not None:
            consumer.terminate()
            consumer.wait(timeout=20)
    Path(args.json_out).write_text(json.dumps({"mode": args.mode, "latencies_s": latencies}))


# ---------------------------------------------------------------- series child


def _links(connection, rows: int) -> list[int]:
    """Ten incidents with up to 20,000 linked complaints each (every tenth complaint), received over
    72 hours (idempotent)."""
    from datetime import timedelta

    from kuaixiang import clock
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.crisis.models import Incident, IncidentComplaint
    from kuaixiang.crisis.services import incident_open
    from kuaixiang.rulepacks import rulepack_load

    existing = list(Incident.objects.filter(title__startswith="bench-").order_by("pk").values_list("pk", flat=True))
    per = min(LINKS_PER_INCIDENT, rows // INCIDENTS)
    complete = Incident.objects.filter(title__startswith="bench-", linked_count=per).count() == INCIDENTS
    if len(existing) == INCIDENTS and complete and IncidentComplaint.objects.count() == INCIDENTS * per:
        return existing
    Incident.objects.filter(title__startswith="bench-").delete()
    rulepack_load(ROOT / "rulepacks" / "telecom" / "playbooks.yaml")
    latest = Complaint.objects.order_by("-received_at").values_list("received_at", flat=True).first()
    start = latest - timedelta(hours=HOURS)
    ids = []
    pool = list(Complaint.objects.order_by("pk").values_list("pk", flat=True))
    for n in range(INCIDENTS):
        with clock.frozen(start):
            incident = incident_open(playbook="telecom_crisis", title=f"bench-{n}", actor=None)
        ids.append(incident.pk)
        chunk = pool[n::INCIDENTS][:LINKS_PER_INCIDENT]  # 20,000 each with 1,000,000 complaints
        links = [
            IncidentComplaint(
                incident_id=incident.pk,
                complaint_id=pk,
                received_at=start + timedelta(seconds=(i * 7919) % (HOURS * 3600)),
                linked_at=start,
                source="warning",
            )
            for i, pk in enumerate(chunk)
        ]
        IncidentComplaint.objects.bulk_create(links, batch_size=5000)
        Incident.objects.filter(pk=incident.pk).update(linked_count=len(links))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return ids


def series_child(args) -> None:
    from datetime import timedelta

    import django

    django.setup()
    from django.db import connection

    from benchmarks.dataset import load
    from kuaixiang import clock
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.crisis.models import Incident
    from kuaixiang.crisis.selectors import hourly_figures

    meta = load(args.rows, reload=False, log=log)
    ids = _links(connection, args.rows)
    incident = Incident.objects.get(pk=ids[len(ids) // 2])
    now = incident.activated_at + timedelta(hours=HOURS)
    samples = []
    figures = []
    for _ in range(30):
        fresh = Incident.objects.get(pk=incident.pk)
        t0 = time.perf_counter()
        figures = hourly_figures(fresh, now=now)
        samples.append((time.perf_counter() - t0) * 1000)
    from django.contrib.auth import get_user_model

    from kuaixiang.crisis.api import incident_detail

    user = get_user_model().objects.get(username="hq_manager")
    detail = []
    with clock.frozen(now):
        for _ in range(10):
            fresh_user = get_user_model().objects.get(pk=user.pk)
            t0 = time.perf_counter()
            body = incident_detail(fresh_user, incident.pk)
            detail.append((time.perf_counter() - t0) * 1000)
    plan = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT date_trunc('hour', received_at AT TIME ZONE 'UTC') h, count(*) "
                "FROM crisis_incidentcomplaint WHERE incident_id = %s AND received_at >= %s AND received_at < %s "
                "GROUP BY 1",
                [incident.pk, incident.activated_at - timedelta(hours=1), now],
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
    Path(args.json_out).write_text(
        json.dumps(
            {
                "complaints": Complaint.objects.count(),
                "dataset": {k: meta.get(k) for k in ("rows", "reused", "load_seconds")},
                "hours": len(figures),
                "linked": sum(f.count for f in figures),
                "series_ms": samples,
                "detail_ms": detail,
                "detail_hours": len(body["hourly"]),
                "plan": plan,
            }
        )
    )


# ---------------------------------------------------------------- parent


def _database(db: str, name: str) -> str:
    if db == "postgres":
        if not pg_exists(name):
            pg_execute(f'CREATE DATABASE "{name}"')
        return pg_url(name)
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    return sqlite_url(BENCH_VAR / f"{name}.sqlite3")


def _fresh_database(db: str, name: str) -> str:
    from benchmarks.common import pg_recreate

    if db == "postgres":
        pg_recreate(name)
        return pg_url(name)
    return sqlite_url(Path(tempfile.mkdtemp(prefix="kx-bench-crisis-")) / "db.sqlite3")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--latency-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--series-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="immediate", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.latency_child:
        latency_child(args)
        return {}
    if args.series_child:
        series_child(args)
        return {}
    rows = 100_000 if args.quick else 1_000_000
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in dbs and not pg_reachable():
        log("crisis: PostgreSQL not reachable, skipped there")
        dbs.remove("postgres")
    figures: dict = {"latency": {}, "series": {}}
    for db in dbs:
        modes = {"immediate": {"HUEY_IMMEDIATE": "1"}, "sqlite-queue": {"HUEY_IMMEDIATE": "0"}}
        redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
        modes["redis"] = {"HUEY_IMMEDIATE": "0", "REDIS_URL": redis, "HUEY_NAME": f"kx-bench-crisis-{os.getpid()}"}
        for mode, extra in modes.items():
            log(f"crisis: latency {mode} on {db}")
            url = _fresh_database(db, "kx_bench_crisis_latency")
            try:
                result = run_child("bench_crisis", ["--latency-child", "--mode", mode], child_env(url, **extra))
            except subprocess.CalledProcessError as exc:
                log(f"crisis: latency {mode} on {db} failed: {exc}")
                continue
            found = [v for v in result["latencies_s"] if v is not None]
            figures["latency"][f"{db}/{mode}"] = {
                "median_s": round(median(found), 3) if found else None,
                "max_s": round(max(found), 3) if found else None,
                "missing": len(result["latencies_s"]) - len(found),
                "samples": [round(v, 3) if v is not None else None for v in result["latencies_s"]],
            }
        log(f"crisis: hourly series with {rows:,} complaints on {db}")
        url = _database(db, f"kx_bench_crisis_{rows}")
        figures["series"][db] = run_child("bench_crisis", ["--series-child", "--rows", str(rows)], child_env(url))
    print("| measure | target | result | |")
    print("|---|---|---|---|")
    ok = True
    for key, r in figures["latency"].items():
        passed = r["median_s"] is not None and r["max_s"] <= LATENCY_TARGET_S and not r["missing"]
        if not key.endswith("sqlite-queue"):
            ok = ok and passed
        note = " — zero-configuration queue, default consumer polling (informative)" if "sqlite-queue" in key else ""
        print(
            f"| warning → incident, {key} (median / max of {WARNINGS}){note} | ≤ {LATENCY_TARGET_S:g} s "
            f"| {r['median_s']} / {r['max_s']} s (samples {r['samples']}) | {'PASS' if passed else 'MISS'} |"
        )
    for db, r in figures["series"].items():
        series = median(r["series_ms"])
        detail = median(r["detail_ms"])
        passed = series < SERIES_TARGET_MS
        ok = ok and passed
        print(
            f"| hourly series, {r['hours']} h, {r['linked']:,} linked, {r['complaints']:,} complaints ({db}, median) "
            f"| < {SERIES_TARGET_MS:g} ms | {series:.1f} ms | {'PASS' if passed else 'MISS'} |"
        )
        print(f"| incident API detail with the series ({db}, median) | — | {detail:.1f} ms | |")
        r["series_median_ms"], r["detail_median_ms"] = round(series, 2), round(detail, 2)
    figures["ok"] = ok
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
