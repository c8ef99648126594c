"""Child process: fill the database named by ``DATABASE_URL`` with N complaints, or reuse it.

The table is filled straight through the database driver (PostgreSQL ``COPY``, SQLite
``executemany`` in one transaction) with the secondary indexes dropped during the load and
rebuilt afterwards, then ANALYZEd. A small ``kx_bench_meta`` table records what was loaded,
so a rerun with the same row count and generator version reuses the data (``--reload``
forces a fresh load).

Distribution (seeded, reproducible): received times over the last 90 days, chronological ids,
office hours busier than nights; three branches and HQ by weight; status by age (recent
complaints open, older ones archived); handling departments skewed towards the network
department; telecom categories with matching Chinese descriptions. No timeline events are
generated: the list and search paths do not read them.
"""

import argparse
import bisect
import json
import random
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate

import django

GENERATOR_VERSION = 3
CHUNK = 50_000
DAYS = 90

COLUMNS = [
    "number", "channel", "external_id", "status", "severity", "anonymous", "complainant_name",
    "complainant_phone", "received_at", "place", "subject", "description", "appeal", "amount_claimed",
    "extra", "category_id", "intake_department_id", "department_id", "registered_by_id", "assignee_id",
    "merged_into_id", "suspended_from", "refuse_reason", "findings", "solution", "reply_content",
    "satisfaction", "solved", "reopen_count", "reconsider_count", "due_at", "created_at", "updated_at",
    "accepted_at", "refused_at", "dispatched_at", "taken_at", "returned_at", "reviewed_at", "replied_at",
    "revisited_at", "suspended_at", "archived_at", "closed_at",
]  # fmt: skip

CHANNELS = {
    "phone": 40, "hotline_12345": 14, "hotline_12315": 8, "app": 10, "wechat": 10, "web": 5, "email": 3,
    "letter": 1, "visit": 3, "weibo": 2, "media": 1, "government": 2, "other": 1,
}  # fmt: skip
WITH_EXTERNAL_ID = {"hotline_12345", "hotline_12315", "government", "app", "web"}
SEVERITY = {"general": 85, "important": 10, "major": 4, "urgent": 1}
TOPS = {"net": 40, "bill": 30, "biz": 15, "svc": 15}
BRANCH_SHARE = {"a": 45, "b": 35, "c": 15, "hq": 5}
HANDLING_SHARE = [35, 15, 25, 10, 15]  # network, group, business, quality, the centre itself
# Status mix by age (days): recent complaints are open, older ones mostly archived.
STATUS_BY_AGE = [
    (1, {"registered": 15, "accepted": 15, "dispatched": 25, "processing": 30, "returned": 5, "reviewed": 3,
         "replied": 2, "suspended": 2, "refused": 3}),
    (3, {"registered": 2, "accepted": 5, "dispatched": 15, "processing": 35, "returned": 12, "reviewed": 8,
         "replied": 12, "revisited": 3, "suspended": 3, "refused": 3, "archived": 2}),
    (10, {"processing": 10, "returned": 5, "reviewed": 3, "replied": 15, "revisited": 20, "archived": 40,
          "suspended": 2, "refused": 4, "merged": 1}),
    (DAYS + 1, {"processing": 1, "replied": 2, "revisited": 10, "archived": 81, "suspended": 1, "refused": 4,
                "merged": 1}),
]  # fmt: skip
NOT_DISPATCHED = {"registered", "accepted", "refused"}
TAKEN = {"processing", "returned", "reviewed", "replied", "revisited", "archived", "suspended"}
RETURNED = {"returned", "reviewed", "replied", "revisited", "archived"}
REPLIED = {"replied", "revisited", "archived"}
CLOSED = {"archived", "refused", "merged"}
# Relative busyness by Shanghai hour of day.
HOUR_WEIGHT = [0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1, 1, 0.9, 0.9, 1, 1, 1, 0.9, 0.8, 0.8, 0.7,
               0.5, 0.3, 0.2]  # fmt: skip


class Picker:
    """Weighted choice from a dict, fast enough for a million rows."""

    def __init__(self, rng: random.Random, weights: dict | list, values: list | None = None):
        self.values = list(weights) if isinstance(weights, dict) else values
        self.cum = list(accumulate(weights.values() if isinstance(weights, dict) else weights))
        self.rng = rng

    def __call__(self):
        return self.values[bisect.bisect(self.cum, self.rng.random() * self.cum[-1])]


def received_times(rng: random.Random, rows: int, now: datetime) -> list[datetime]:
    """``rows`` instants in the last 90 days, shaped by hour of day, in ascending order."""
    span = DAYS * 86400
    out = []
    while len(out) < rows:
        offset = rng.random() * span
        at = now - timedelta(seconds=offset)
        if rng.random() < HOUR_WEIGHT[(at.hour + 8) % 24]:
            out.append(offset)
    out.sort(reverse=True)
    return [now - timedelta(seconds=o) for o in out]


def generate(rows: int, org, seed: int = 20261122):
    """Yield tuples in ``COLUMNS`` order, oldest complaint first."""
    from benchmarks.texts import TextGenerator

    rng = random.Random(seed)
    text = TextGenerator(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    channel = Picker(rng, CHANNELS)
    severity = Picker(rng, SEVERITY)
    top = Picker(rng, TOPS)
    branch = Picker(rng, BRANCH_SHARE)
    by_age = [(limit, Picker(rng, weights)) for limit, weights in STATUS_BY_AGE]
    handling_index = Picker(rng, HANDLING_SHARE, list(range(len(HANDLING_SHARE))))
    branches = [code for code in BRANCH_SHARE if code != "hq"]
    handling = {code: [d.pk for d in org.handling[code]] + [org.centres[code].pk] for code in branches}
    daily: dict[str, int] = {}
    day_names: dict[int, str] = {}
    shanghai = timedelta(hours=8)
    rand = rng.random

    def choice(seq):
        return seq[int(rand() * len(seq))]

    for index, received in enumerate(received_times(rng, rows, now)):
        age_days = (now - received).total_seconds() / 86400
        status = next(pick for limit, pick in by_age if age_days < limit)()
        unit = branch()
        centre = org.centres[unit]
        home = unit if unit != "hq" else choice(branches)
        department = None if status in NOT_DISPATCHED else handling[home][handling_index()]
        assignee = choice(org.handlers[department]) if department and status in TAKEN else None
        created = min(received + timedelta(seconds=20 + 1800 * rand()), now)
        local = created + shanghai
        day_key = local.toordinal()
        day = day_names.get(day_key) or day_names.setdefault(day_key, local.strftime("%Y%m%d"))
        daily[day] = seq = daily.get(day, 0) + 1
        chan = channel()
        kind = top()
        anonymous = rng.random() < 0.03
        if anonymous:
            phone = ""
        elif rng.random() < 0.05:
            phone = f"0571-{rng.randrange(80000000, 89999999)}"
        else:
            phone = text.phone()

        def later(hours: float, base: datetime = created) -> datetime:
            return min(base + timedelta(hours=hours * (0.5 + rand())), now)

        accepted = later(0.5) if status not in {"registered", "refused"} else None
        dispatched = later(1) if department else None
        taken = later(3) if assignee else None
        returned = later(24) if status in RETURNED else None
        replied = later(36) if status in REPLIED else None
        revisited = later(60) if status in {"revisited", "archived"} else None
        closed = later(72) if status in CLOSED else None
        if status == "archived" and revisited:
            closed = max(closed, revisited)
        milestones = [m for m in (accepted, dispatched, taken, returned, replied, revisited, closed) if m]
        satisfied = choice((5, 5, 5, 4, 4, 3, 2, 1)) if revisited else None
        extra = "{}"
        if rng.random() < 0.1:
            extra = json.dumps({"product": rng.choice(["5G畅享套餐", "千兆宽带", "全家享"]), "order": f"DD{index:09d}"})
        yield (
            f"TS{day}{seq:06d}",
            chan,
            f"{chan[:3].upper()}{index:09d}" if chan in WITH_EXTERNAL_ID else None,
            status,
            severity(),
            anonymous,
            "" if anonymous else text.name(),
            phone,
            received,
            text.place(),
            text.subject(kind),
            text.description(kind, index),
            text.appeal(),
            f"{rng.randint(1, 5000)}.00" if rng.random() < 0.05 else None,
            extra,
            choice(org.leaves[kind]) if rand() < 0.95 else None,
            centre.pk,
            department,
            choice(org.agents[centre.pk]),
            assignee,
            None,
            "processing" if status == "suspended" else "",
            "不属于本单位受理范围，已告知投诉人向相关部门反映" if status == "refused" else "",
            "经核实情况属实，已安排处理" if returned else "",
            "已现场处理并跟进" if returned else "",
            "您反映的问题已处理完毕，感谢您的监督" if replied else "",
            satisfied,
            (satisfied >= 4 or rng.random() < 0.3) if satisfied else None,
            0,
            0,
            received + timedelta(days=2) if status not in CLOSED and status != "suspended" else None,
            created,
            max(milestones, default=created),
            accepted,
            later(1) if status == "refused" else None,
            dispatched,
            taken,
            returned,
            later(30, returned) if returned and status != "returned" else None,
            replied,
            revisited,
            later(12) if status == "suspended" else None,
            closed if status == "archived" else None,
            closed,
        )


def _meta(connection) -> dict | None:
    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT value FROM kx_bench_meta WHERE key = 'dataset'")
        except Exception:
            return None
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def _write_meta(connection, meta: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS kx_bench_meta (key varchar(50) PRIMARY KEY, value text)")
        cursor.execute("DELETE FROM kx_bench_meta WHERE key = 'dataset'")
        cursor.execute("INSERT INTO kx_bench_meta (key, value) VALUES ('dataset', %s)", [json.dumps(meta)])


def _secondary_indexes(connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes that do not back a constraint."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """SELECT i.indexname, i.indexdef FROM pg_indexes i
                   WHERE i.tablename = %s AND NOT EXISTS (
                     SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)""",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        return cursor.fetchall()


def _empty_tables(connection) -> None:
    tables = ["complaints_complaintevent", "complaints_attachment", "complaints_idempotencykey", "complaints_complaint"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608


def _load_postgres(connection, rows) -> None:
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy(f"COPY complaints_complaint ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _load_sqlite(connection, rows) -> None:
    def sqlite_value(value):
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, bool):
            return int(value)
        return value

    raw = connection.connection
    sql = f"INSERT INTO complaints_complaint ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
    batch = []
    for row in rows:
        batch.append(tuple(sqlite_value(v) for v in row))
        if len(batch) >= CHUNK:
            raw.executemany(sql, batch)
            batch.clear()
    if batch:
        raw.executemany(sql, batch)


def load(rows: int, *, reload: bool, log) -> dict:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.migrations.executor import MigrationExecutor

    from benchmarks.fixtures import build_org
    from benchmarks.texts import text_source

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        log(f"applying {len(pending)} migration(s)")
    call_command("migrate", interactive=False, verbosity=0)
    org = build_org()
    meta = _meta(connection)
    wanted = {"rows": rows, "version": GENERATOR_VERSION}
    if meta and not reload and all(meta.get(k) == v for k, v in wanted.items()):
        log(f"reusing {rows:,} complaints loaded {meta['loaded_at']} ({meta['text_source']})")
        if pending:  # a new (expression) index needs statistics before the planner can cost it
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return {**meta, "reused": True}
    started = time.monotonic()
    _empty_tables(connection)
    table = "complaints_complaint"
    indexes = _secondary_indexes(connection, table)
    with connection.cursor() as cursor:
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    log(f"loading {rows:,} complaints ({len(indexes)} secondary indexes dropped during the load)")
    generated = generate(rows, org)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")  # a crash mid-load means reload anyway
    with transaction.atomic():
        (_load_postgres if connection.vendor == "postgresql" else _load_sqlite)(connection, generated)
    loaded = time.monotonic()
    log(f"rows in {loaded - started:.0f} s; rebuilding indexes")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, create in indexes:
            cursor.execute(create)
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    meta = {
        **wanted,
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "text_source": text_source(),
        "load_seconds": round(time.monotonic() - started, 1),
        "index_seconds": round(time.monotonic() - loaded, 1),
    }
    _write_meta(connection, meta)
    log(f"loaded in {meta['load_seconds']} s (indexes and ANALYZE {meta['index_seconds']} s)")
    return {**meta, "reused": False}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    django.setup()
    from benchmarks.common import log, write_json

    write_json(args.json_out, load(args.rows, reload=args.reload, log=lambda m: log(f"list/{args.label}: {m}")))


if __name__ == "__main__":
    main()
