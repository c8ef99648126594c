"""Remedies: building approval chains, approving them, and monthly limits under concurrent requests.

For each database a child process migrates a fresh database, builds a small organisation
(HQ, one branch with a complaint centre of agents, team leads and a manager, a network
department with its head, HQ leaders) and loads the telecom ``authority`` section. Then:

1. **chain build**: ``remedy_request`` of 6,000 yuan (the 5,000+ three-signer chain: approvers
   found in the organisation tree, first step's working-time deadline, notifications) on
   ``--requests`` complaints; median and p95 milliseconds per request.
2. **approval throughput**: every step of those chains approved through ``remedy_decide``
   (compare-and-set claim, next step started, requester told at the end); decisions per second.
3. **concurrent limit**: ``--threads`` threads, each with its own connection, fire 100-yuan
   requests by one agent (monthly ceiling 2,000) on distinct complaints at the same time;
   exactly 20 must be approved alone and the ledger must read 2,000.00 — PASS/MISS.

    .venv/bin/python benchmarks/bench_remedies.py [--quick] [--db sqlite|postgres|both] [--runs 3]

Targets: chain build median < 50 ms, approvals ≥ 50/s, the concurrent limit exact (both
databases; on SQLite the writers are serialised, on PostgreSQL it is the ledger's
conditional UPDATE that holds). Medians are over ``--runs`` repetitions of each measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    BENCH_VAR,
    child_env,
    percentile,
    pg_reachable,
    pg_recreate,
    pg_url,
    run_child,
    sqlite_url,
)

TARGET_CHAIN_MS = 50.0
TARGET_APPROVALS = 50.0
MONTHLY = 2000
EACH = 100


def log(message: str) -> None:
    print(f"[remedies] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- child


def _org(agents: int):
    from django.contrib.auth import get_user_model

    from kuaixiang.org.models import Department, Staff

    User = get_user_model()

    def dept(code, name, level, parent=None, function="general"):
        return Department.objects.create(code=code, name=name, level=level, parent=parent, function=function)

    def person(username, department, role):
        user = User.objects.create(username=username, first_name=username)
        Staff.objects.create(user=user, department=department, role=role)
        return user

    hq = dept("hq", "总部", "hq")
    leaders = dept("hq-leaders", "领导小组", "department", hq, "leadership")
    branch = dept("a", "甲分公司", "branch", hq)
    centre = dept("a-centre", "甲客服中心", "department", branch, "complaint_centre")
    network = dept("a-network", "甲网络部", "department", branch, "network")
    return {
        "agents": [person(f"agent{i}", centre, "agent") for i in range(agents)],
        "leads": [person(f"lead{i}", centre, "lead") for i in range(2)],
        "manager": person("manager", centre, "manager"),
        "head": person("head", network, "head"),
        "leader": person("leader", leaders, "leader"),
    }


def _complaints(actor, count: int) -> list:
    from kuaixiang.complaints.intake import parse_complaint_input
    from kuaixiang.complaints.services import complaint_register

    data = parse_complaint_input({"channel": "phone", "complainant_phone": "13812345678", "description": "断网"})
    return [complaint_register(actor=actor, data=data).complaint for _ in range(count)]


def _body(amount: int) -> dict:
    return {"type": "compensation", "amount": amount, "responsibility": "company_fault", "justification": "bench"}


def _chains_and_approvals(org: dict, requests: int) -> tuple[list[float], float]:
    from kuaixiang.remedies.services import remedy_decide, remedy_request

    agent = org["agents"][0]
    complaints = _complaints(agent, requests)
    times = []
    remedies = []
    for complaint in complaints:
        started = time.perf_counter()
        remedies.append(remedy_request(complaint_id=complaint.pk, actor=agent, data=_body(6000)))
        times.append(time.perf_counter() - started)
    assert all(r.state == "pending" for r in remedies)
    decisions = 0
    started = time.perf_counter()
    for approver in (org["manager"], org["head"], org["leader"]):
        for remedy in remedies:
            remedy_decide(remedy_id=remedy.pk, actor=approver, action="approve")
            decisions += 1
    seconds = time.perf_counter() - started
    return times, decisions / seconds


def _concurrent_limit(org: dict, threads: int, per_thread: int, agent) -> dict:
    from django.db import connections

    from kuaixiang.errors import DomainError
    from kuaixiang.remedies.models import AuthorityLedger
    from kuaixiang.remedies.services import remedy_request

    complaints = _complaints(agent, threads * per_thread)
    barrier = threading.Barrier(threads)
    states: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(batch):
        try:
            barrier.wait(timeout=60)
            for complaint in batch:
                try:
                    state = remedy_request(complaint_id=complaint.pk, actor=agent, data=_body(EACH)).state
                except DomainError as exc:
                    state = f"error:{exc.code}"
                with lock:
                    states.append(state)
        except Exception as exc:  # noqa: BLE001 — reported in the result
            with lock:
                errors.append(repr(exc))
        finally:
            connections.close_all()

    batches = [complaints[i::threads] for i in range(threads)]
    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(b,)) for b in batches]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - started
    used = AuthorityLedger.objects.get(user=agent, remedy_type="compensation").used
    approved = states.count("approved")
    return {
        "requests": len(complaints),
        "approved_alone": approved,
        "pending": states.count("pending"),
        "errors": errors + [s for s in states if s.startswith("error")],
        "ledger": str(used),
        "seconds": round(seconds, 3),
        "ok": approved == MONTHLY // EACH and int(used) == MONTHLY and not errors,
    }


def child(args) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from kuaixiang.rulepacks import rulepack_load

    call_command("migrate", interactive=False, verbosity=0)
    org = _org(agents=1 + args.runs)
    rulepack_load(Path(settings.BASE_DIR) / "rulepacks" / "telecom" / "authority.yaml")
    chain_ms, approvals, limits = [], [], []
    for run in range(args.runs):
        times, rate = _chains_and_approvals(org, args.requests)
        chain_ms.append(statistics.median(times) * 1000)
        approvals.append(rate)
        p95 = percentile([t * 1000 for t in times], 95)
        log(f"{connection.vendor} run {run + 1}: chain {chain_ms[-1]:.1f} ms (p95 {p95:.1f}), {rate:.0f} approvals/s")
        # A fresh agent per run: each starts the month with an untouched ledger.
        limits.append(_concurrent_limit(org, args.threads, args.per_thread, org["agents"][1 + run]))
        log(f"{connection.vendor} run {run + 1}: concurrent limit {limits[-1]}")
    return {
        "vendor": connection.vendor,
        "chain_ms": round(statistics.median(chain_ms), 2),
        "approvals_per_s": round(statistics.median(approvals), 1),
        "limit": limits,
        "limit_ok": all(r["ok"] for r in limits),
        "limit_seconds": round(statistics.median(r["seconds"] for r in limits), 3),
    }


# ---------------------------------------------------------------- parent


def _url(vendor: str) -> str:
    name = "kx_bench_remedies"
    if vendor == "postgresql":
        pg_recreate(name)
        return pg_url(name)
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    path = BENCH_VAR / f"{name}.sqlite3"
    path.unlink(missing_ok=True)
    return sqlite_url(path)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 chains, 4 threads × 10 requests")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default=None)
    parser.add_argument("--runs", type=int, default=3, help="repetitions, median reported (≥ 3)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--per-thread", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args)
        Path(args.json_out).write_text(json.dumps(result), encoding="utf-8")
        return result
    runs = max(args.runs, 3)
    requests, threads, per_thread = (40, 4, 10) if args.quick else (200, 8, 10)
    wanted = args.db or ("both" if pg_reachable() else "sqlite")
    vendors = {"sqlite": ["sqlite"], "postgres": ["postgresql"], "both": ["postgresql", "sqlite"]}[wanted]
    if "postgresql" in vendors and not pg_reachable():
        log("PostgreSQL unreachable: skipped")
        vendors.remove("postgresql")
    out = {}
    for vendor in vendors:
        child_args = ["--child", "--runs", str(runs), "--requests", str(requests)]
        child_args += ["--threads", str(threads), "--per-thread", str(per_thread)]
        out[vendor] = run_child("bench_remedies", child_args, child_env(_url(vendor)))
    print(f"remedies: {requests} three-signer chains, {threads} threads × {per_thread} requests, median of {runs}")
    print(
        f"| database | chain build (target < {TARGET_CHAIN_MS:g} ms) | approvals/s (target ≥ {TARGET_APPROVALS:g}) "
        f"| concurrent monthly limit | {threads * per_thread} requests in |"
    )
    print("|---|---|---|---|---|")
    for vendor, r in out.items():
        chain = "PASS" if r["chain_ms"] < TARGET_CHAIN_MS else "MISS"
        rate = "PASS" if r["approvals_per_s"] >= TARGET_APPROVALS else "MISS"
        limit = f"PASS ({MONTHLY // EACH} alone, ledger {MONTHLY})" if r["limit_ok"] else f"MISS {r['limit']}"
        print(
            f"| {vendor} | {r['chain_ms']:.1f} ms {chain} | {r['approvals_per_s']:.0f} {rate} | {limit} "
            f"| {r['limit_seconds']:.2f} s |"
        )
    return {"requests": requests, "threads": threads, "per_thread": per_thread, "runs": runs, **out}


if __name__ == "__main__":
    main()
