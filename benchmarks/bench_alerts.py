"""Early warning: surge detection on simulated streams, and count rules at 200 complaints/s.

Streams: one per category of ``../shared/data/complaints_dev.csv`` (skipped cleanly when absent),
a stationary Poisson background at 5–20 complaints/hour with a daily cycle (night 0.3×, day up to
1.6×) and a weekly one (weekend 0.8×), 28 days of history then 30 measured days, minute by minute.
The detector is the one the ``poisson`` rules run (``kuaixiang.alerts.detectors``: same-hour
baseline over 4 weeks ± 1 hour, Poisson CUSUM for a tripled rate, threshold for one false alarm per
60 days), run in the kernel. Planted bursts (daytime, 60 minutes): tenfold, and tripled.

Three independent runs (one with ``--quick``, on 4 categories). Reported per category: false alarms
of each 30-day stationary run; for the bursts of all runs, the detection delay (median, max) and
misses. The false-alarm aim is a rate: the mean over categories and runs. The intake part registers complaints through
``complaint_register_bulk`` paced at 200/s (batches of 20; four concurrent writers on PostgreSQL)
in a child process and checks that each level of a count rule is raised by the batch that
crosses it, with the crossing count.

The replay part runs ``manage.py replay --csv PATH --instant`` (in a child process, through
``call_command``) on three streams across eight categories and five channels, texts from our
templates (a quarter real complaints when the data file is present): sparse (one complaint every
1–4 minutes), dense (one every 1–4 seconds), and cluster (sparse, every text the same template
with its number: one ever-growing near-duplicate cluster whose hourly rule raises a warning again
and again, the worst case for the replay's stretches). It reports complaints/s (median of three
runs; target 300/s for sparse and dense) and the warnings raised. It does not need the data file.

    .venv/bin/python benchmarks/bench_alerts.py [--quick] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.common import child_env, log, pg_reachable, pg_recreate, pg_url, run_child, sqlite_url  # noqa: E402
from kuaixiang.alerts import detectors  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "complaints_dev.csv"
HISTORY_DAYS, DAYS = 28, 30
RATIO, ARL_DAYS = 3.0, 60
BURSTS = 6  # per category, burst kind and run
SEEDS = (20261122, 1, 2)  # independent 30-day runs


def _profile(minute: np.ndarray) -> np.ndarray:
    hour = (minute // 60) % 24
    day = (minute // 1440) % 7
    daily = 0.3 + 1.3 * np.clip(np.sin((hour - 6) / 16 * np.pi), 0, None)
    daily = daily / daily.mean()
    weekly = np.where(day >= 5, 0.8, 1.08)
    return daily * weekly


def _run(counts: np.ndarray) -> list[int]:
    """Alarm minutes of the CUSUM over the measured days (history warms the baseline)."""
    minutes = len(counts)
    hourly = counts.reshape(-1, 60).sum(axis=1)
    start = HISTORY_DAYS * 1440
    mean_rate = hourly[: HISTORY_DAYS * 24].mean()
    h = detectors.cusum_threshold(rate=max(mean_rate, detectors.MIN_RATE), ratio=RATIO, arl_hours=ARL_DAYS * 24)
    cusum = detectors.PoissonCusum(ratio=RATIO, threshold=h)
    alarms = []
    expected_hour = None
    for m in range(start, minutes):
        if m % 60 == 0 or expected_hour is None:
            hour = m // 60
            expected_hour = detectors.same_hour_baseline(
                lambda i, hour=hour: float(hourly[hour + i]), 0, weeks=4, spread=1
            )
        if cusum.step(int(counts[m]), max(expected_hour, detectors.MIN_RATE) / 60):
            alarms.append(m - start)
    return alarms


def surge_figures(quick: bool) -> dict:
    """Per category, over ``SEEDS`` independent 30-day runs (one with ``--quick``): false alarms
    per run, and the delays of every planted burst pooled."""
    with DATA.open(encoding="utf-8", newline="") as f:
        categories = sorted({row["category"] for row in csv.DictReader(f)})
    seeds = SEEDS[:1] if quick else SEEDS
    if quick:
        categories = categories[:4]
    total = (HISTORY_DAYS + DAYS) * 1440
    minute = np.arange(total)
    base = HISTORY_DAYS * 1440
    rows = []
    for i, name in enumerate(categories):
        rate = 5 + 15 * i / max(len(categories) - 1, 1)
        lam = rate / 60 * _profile(minute)
        result: dict = {"category": name, "rate_per_hour": round(rate, 1), "false_alarms": []}
        delays: dict[str, list[int | None]] = {"tenfold": [], "triple": []}
        for seed in seeds:
            rng = np.random.default_rng([seed, i])
            stationary = rng.poisson(lam)
            result["false_alarms"].append(len(_run(stationary)))
            for kind, factor in (("tenfold", 10), ("triple", 3)):
                counts = stationary.copy()
                bursts = []
                for d in sorted(rng.choice(np.arange(2, DAYS - 1), size=BURSTS, replace=False)):
                    start = int(d) * 1440 + int(rng.integers(9, 19)) * 60 + int(rng.integers(0, 60))
                    end = start + 60
                    counts[base + start : base + end] += rng.poisson(lam[base + start : base + end] * (factor - 1))
                    bursts.append((start, end))
                delays[kind] += detectors.detection_delays(_run(counts), bursts)[0]
        for kind, limit in (("tenfold", 15), ("triple", 60)):
            found = [d for d in delays[kind] if d is not None]
            result[kind] = {
                "median_delay_min": statistics.median(found) if found else None,
                "max_delay_min": max(found) if found else None,
                "missed": sum(d is None for d in delays[kind]),
                "within_target": sum(1 for d in found if d <= limit),
                "bursts": len(delays[kind]),
            }
        rows.append(result)
    return {"categories": rows, "runs": len(seeds)}


def intake_child(args) -> None:
    """Child process: register complaints at 200/s and check the count rule fires on the crossing batch."""
    import django

    django.setup()
    from concurrent.futures import ThreadPoolExecutor

    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from kuaixiang.alerts.models import Warning, WarningEvent, WarningRule
    from kuaixiang.complaints.intake import parse_complaint_input
    from kuaixiang.complaints.services import complaint_register_bulk
    from kuaixiang.org.models import Department, Staff
    from kuaixiang.triage.models import Category

    hq = Department.objects.create(name="总部", code="bench-hq", level="hq")
    centre = Department.objects.create(
        name="客服中心", code="bench-centre", level="department", parent=hq, function="complaint_centre"
    )
    agent = get_user_model().objects.create_user("bench-agent")
    Staff.objects.create(user=agent, department=centre, role="agent")
    parent = None
    for depth in range(5):
        parent = Category.objects.create(name=f"第{depth + 1}级", code=f"bench-{depth}", parent=parent)
    thresholds = [300, 600, 1000]
    WarningRule.objects.create(
        code="bench-cat5",
        name="五级分类单日",
        group_by="category",
        category_level=5,
        window_kind="calendar_day",
        levels=[{"level": i + 1, "at": t, "notify": []} for i, t in enumerate(thresholds)],
    )
    items = [
        parse_complaint_input(
            {"channel": "phone", "anonymous": True, "description": f"信号差 {i}", "category_id": parent.pk}
        )
        for i in range(args.total)
    ]
    batch, per_second = 20, 200
    # PostgreSQL takes concurrent writers as several web workers would; SQLite has one writer.
    workers = 4 if connection.vendor == "postgresql" else 1
    chunks = [items[i : i + batch] for i in range(0, len(items), batch)]
    started = time.perf_counter()
    lag: list[float] = []

    def work(first: int) -> None:
        try:
            for n in range(first, len(chunks), workers):
                pause = started + n * batch / per_second - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                lag.append(max(0.0, -pause))
                complaint_register_bulk(actor=agent, items=chunks[n])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, range(workers)))
    seconds = time.perf_counter() - started
    warning = Warning.objects.get()
    events = list(
        WarningEvent.objects.filter(warning=warning, kind__in=["raised", "rose"])
        .order_by("id")
        .values_list("level", "payload")
    )
    exact = [int(p["count"]) for _, p in events]
    # A batch crosses a threshold t when it takes the count from below t to t or beyond: the event's
    # count is t rounded up to the batch.
    on_crossing = all(t <= c < t + batch for t, c in zip(thresholds, exact, strict=True))
    Path(args.json_out).write_text(
        json.dumps(
            {
                "workers": workers,
                "rate_per_s": round(args.total / seconds, 1),
                "levels": [lvl for lvl, _ in events],
                "counts_at_raise": exact,
                "on_crossing_batch": on_crossing,
                "max_lag_s": round(max(lag), 3),
            }
        )
    )


REPLAY_TARGET = 300  # complaints/s with --instant (issue 5, item 6)
REPLAY_CATEGORIES = (
    "手机/信号/室内弱覆盖",
    "手机/信号/断线",
    "宽带/网速/晚高峰慢",
    "宽带/装机/延期",
    "资费/套餐/乱扣费",
    "资费/流量/超额",
    "服务/营业厅/态度差",
    "服务/热线/等待久",
)
REPLAY_CHANNELS = ("phone", "weibo", "web", "app", "hotline_12315")


REPLAY_KINDS = ("sparse", "dense", "cluster")
REPLAY_TOPICS = {"手机": "net", "宽带": "net", "资费": "bill", "服务": "svc"}


def replay_csv(path: Path, kind: str, rows: int, seed: int = 7) -> None:
    """Write a replay CSV: ``sparse`` (a complaint every 1–4 minutes), ``dense`` (every 1–4 s) or
    ``cluster`` (sparse, every text the same template with its number: one near-duplicate cluster,
    the worst case for clusters and warnings). Texts come from ``benchmarks.texts`` (our templates,
    a quarter real complaints when the shared data file is present)."""
    import random
    from datetime import datetime, timedelta

    from benchmarks.texts import TextGenerator

    rnd = random.Random(seed)
    texts = TextGenerator(seed)
    at = datetime(2026, 3, 2, 8, 0)  # noqa: DTZ001 - replay times without an offset are Asia/Shanghai
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["received_at", "channel", "category", "text"])
        for i in range(rows):
            step = timedelta(minutes=rnd.randint(1, 3), seconds=rnd.randint(0, 59)) if kind != "dense" else None
            at += step or timedelta(seconds=rnd.randint(1, 4))
            category = rnd.choice(REPLAY_CATEGORIES)
            if kind == "cluster":
                text = f"用户反映第{i}号问题：信号差，网速慢，要求处理"
            else:
                text = texts.description(REPLAY_TOPICS[category.split("/")[0]], i)
            writer.writerow([at.isoformat(timespec="seconds"), rnd.choice(REPLAY_CHANNELS), category, text])


def replay_child(args) -> None:
    """Child process: time ``manage.py replay --instant`` on each kind of stream (3 runs each)."""
    import io

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_rulepack", "telecom", stdout=io.StringIO())  # the real rules exist, as in production
    folder = Path(tempfile.mkdtemp(prefix="kx-bench-replay-"))
    out: dict = {}
    for kind in REPLAY_KINDS:
        path = folder / f"{kind}.csv"
        replay_csv(path, kind, args.total)
        rates, warnings = [], set()
        for _ in range(3):
            stdout, stderr = io.StringIO(), io.StringIO()
            started = time.perf_counter()
            call_command("replay", "--csv", str(path), "--instant", stdout=stdout, stderr=stderr)
            rates.append(args.total / (time.perf_counter() - started))
            warnings.add(len(stdout.getvalue().splitlines()) - 1)
        out[kind] = {
            "rows": args.total,
            "rate_per_s": round(statistics.median(rates), 1),
            "runs": [round(r, 1) for r in rates],
            "warnings": sorted(warnings),  # one value: every run raised the same warnings
        }
    Path(args.json_out).write_text(json.dumps(out))


def replay_figures(dbs: list[str], quick: bool) -> dict:
    rows = 600 if quick else 3000
    figures: dict = {}
    for db in dbs:
        if db == "postgres":
            if not pg_reachable():
                log("alerts: PostgreSQL not reachable, replay part skipped there")
                continue
            pg_recreate("kx_bench_alerts_replay")
            url = pg_url("kx_bench_alerts_replay")
        else:
            url = sqlite_url(Path(tempfile.mkdtemp(prefix="kx-bench-replay-")) / "db.sqlite3")
        figures[db] = run_child("bench_alerts", ["--replay-child", "--total", str(rows)], child_env(url))
    print("| replay --instant | target | result | |")
    print("|---|---|---|---|")
    for db, r in figures.items():
        for kind in REPLAY_KINDS:
            x = r[kind]
            runs = ", ".join(map(str, x["runs"]))
            label = f"| {kind} stream, {x['rows']} complaints, {x['warnings'][0]} warnings ({db}; median of 3: {runs})"
            if kind == "cluster":  # the worst case, reported: no target
                print(f"{label} | – | {x['rate_per_s']}/s | |")
                continue
            ok = x["rate_per_s"] >= REPLAY_TARGET
            print(f"{label} | ≥ {REPLAY_TARGET}/s | {x['rate_per_s']}/s | {'PASS' if ok else 'MISS'} |")
    print()
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--intake-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--replay-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    parser.add_argument("--total", type=int, default=1200, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.intake_child:
        intake_child(args)
        return {}
    if args.replay_child:
        replay_child(args)
        return {}
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    replay = replay_figures(dbs, args.quick)
    if not DATA.exists():
        log(f"alerts: {DATA} not found, surge and intake parts skipped")
        return {"skipped": f"{DATA} not found", "replay": replay}
    t0 = time.perf_counter()
    figures = surge_figures(args.quick)
    figures["replay"] = replay
    figures["surge_seconds"] = round(time.perf_counter() - t0, 1)
    figures["intake"] = {}
    for db in dbs:
        if db == "postgres":
            if not pg_reachable():
                log("alerts: PostgreSQL not reachable, intake part skipped there")
                continue
            pg_recreate("kx_bench_alerts")
            url = pg_url("kx_bench_alerts")
        else:
            url = sqlite_url(Path(tempfile.mkdtemp(prefix="kx-bench-alerts-")) / "db.sqlite3")
        figures["intake"][db] = run_child("bench_alerts", ["--intake-child", "--total", "1200"], child_env(url))
    cats = figures["categories"]
    runs = figures["runs"]
    fa_all = [n for c in cats for n in c["false_alarms"]]
    fa_mean = sum(fa_all) / len(fa_all)
    ten_ok = all(c["tenfold"]["missed"] == 0 and c["tenfold"]["within_target"] == c["tenfold"]["bursts"] for c in cats)
    ten_in = sum(c["tenfold"]["within_target"] for c in cats)
    ten_all = sum(c["tenfold"]["bursts"] for c in cats)
    tri_in = sum(c["triple"]["within_target"] for c in cats)
    tri_all = sum(c["triple"]["bursts"] for c in cats)
    print(
        f"| category | rate/h | false alarms per 30 d ({runs} runs) | tenfold: median / max delay (min), missed"
        " | tripled: median / max delay (min), missed |"
    )
    print("|---|---|---|---|---|")
    for c in cats:
        t, r = c["tenfold"], c["triple"]
        print(
            f"| {c['category']} | {c['rate_per_hour']} | {', '.join(map(str, c['false_alarms']))} "
            f"| {t['median_delay_min']} / {t['max_delay_min']}, {t['missed']} of {t['bursts']} "
            f"| {r['median_delay_min']} / {r['max_delay_min']}, {r['missed']} of {r['bursts']} |"
        )
    print()
    print("| measure | target | result | |")
    print("|---|---|---|---|")
    print(
        f"| false alarms per category per 30 days (mean; max) | ≤ 1 | {fa_mean:.2f}; {max(fa_all)} "
        f"| {'PASS' if fa_mean <= 1 else 'MISS'} |"
    )
    print(f"| tenfold surge detected within 15 min | all | {ten_in} of {ten_all} | {'PASS' if ten_ok else 'MISS'} |")
    print(
        f"| tripled hour detected within the hour | all | {tri_in} of {tri_all} "
        f"| {'PASS' if tri_in == tri_all else 'MISS'} |"
    )
    for db, r in figures["intake"].items():
        ok = r["on_crossing_batch"] and r["rate_per_s"] >= 195  # offered 200/s; pacing costs the last batch
        print(
            f"| count rule fires on the crossing batch at 200/s ({db}) | yes, ≥ 200/s "
            f"| {r['rate_per_s']}/s, levels {r['levels']} at {r['counts_at_raise']} | {'PASS' if ok else 'MISS'} |"
        )
    figures["ok"] = fa_mean <= 1 and ten_ok
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
