"""Part 1: complaint intake over HTTP through gunicorn, single and bulk, at several concurrencies.

For each database: a fresh database, ``migrate``, the benchmark organisation and a token
(child process ``benchmarks.bootstrap``), then gunicorn serving ``kuaixiang.wsgi`` and a
closed-loop load generator: ``concurrency`` threads, each with its own ``http.client``
connection (kept alive when the server allows it), each sending the next request as soon as
the last one returned.

Measurement windows: the first opens once every thread has completed one request and the
warm-up has passed (so worker start-up, connection set-up and the first queue fill are
excluded); ``repeat`` windows of ``duration`` seconds follow back to back under the same
continuous load, and the table shows their medians. Throughput counts each successful
request's complaints in proportion to its overlap with the window; latencies are the wall
times of the requests that finished inside it. Failed requests are counted over the whole
run, warm-up and drain included.
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import (
    ROOT,
    child_env,
    free_port,
    log,
    median,
    percentile,
    pg_recreate,
    pg_url,
    run_child,
    sqlite_url,
)
from benchmarks.texts import TextGenerator

INTAKE_PG_DB = "kx_bench_intake"
BULK_SIZE = 1000
CHANNELS = ["phone", "hotline_12345", "hotline_12315", "app", "wechat", "web", "email", "letter"]


@dataclass
class ServerConfig:
    workers: int
    threads: int
    worker_class: str = "sync"

    @property
    def label(self) -> str:
        if self.worker_class == "sync":
            return f"gunicorn sync, {self.workers} workers (no keep-alive: the server closes each connection)"
        return f"gunicorn gthread, {self.workers} workers × {self.threads} threads"


class Gunicorn:
    """gunicorn serving the real WSGI application on a free local port."""

    def __init__(self, env: dict[str, str], config: ServerConfig, log_dir: Path):
        self.port = free_port()
        self.log_path = log_dir / "gunicorn.log"
        cmd = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(config.workers),
            "--worker-class",
            config.worker_class,
            "--threads",
            str(config.threads if config.worker_class == "gthread" else 1),
            "--keep-alive",
            "30",
            "--timeout",
            "120",
            "--error-logfile",
            str(self.log_path),
            "--log-level",
            "warning",
            "kuaixiang.wsgi:application",
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)

    def wait_ready(self, token: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not become ready")

    def cpu_seconds(self) -> dict[int, float]:
        """CPU seconds so far of each gunicorn worker (Linux /proc; empty elsewhere)."""
        return {pid: _proc_cpu(pid) for pid in _children(self.proc.pid)}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for task in tasks for c in (task / "children").read_text().split()]
    except OSError:
        return []


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(dbname: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving ``dbname`` (same machine, /proc)."""
    import psycopg

    from benchmarks.common import _libpq, pg_admin_url

    with psycopg.connect(_libpq(pg_admin_url()), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [dbname])]
    return {pid: _proc_cpu(pid) for pid in pids}


def _cpu_delta(start: dict[int, float], end: dict[int, float]) -> float:
    """CPU used between two snapshots by the processes alive at the end (a process that
    started in between counts from zero; one that exited in between is lost)."""
    return sum(cpu - start.get(pid, 0.0) for pid, cpu in end.items())


class Payloads:
    """Request bodies: pre-serialised complaint items spliced with unique external ids."""

    def __init__(self, leaves: list[int], tag: str):
        gen = TextGenerator(seed=7)
        tops = list(gen.pools)
        self.fragments = []
        for i in range(2000):
            item = {
                "channel": CHANNELS[i % len(CHANNELS)],
                "complainant_name": gen.name(),
                "complainant_phone": gen.phone(),
                "place": gen.place(),
                "subject": gen.subject(tops[i % len(tops)]),
                "description": gen.description(tops[i % len(tops)], i),
                "appeal": gen.appeal(),
                "category_id": leaves[i % len(leaves)],
            }
            if i % 5 == 0:
                item["extra"] = {"product": "千兆宽带", "order": f"DD{i:08d}"}
            self.fragments.append(json.dumps(item, ensure_ascii=False)[1:])  # without the opening brace
        self.tag = tag
        self._lock = threading.Lock()
        self._seq = 0

    def _next_ids(self, n: int) -> range:
        with self._lock:
            start = self._seq
            self._seq += n
        return range(start, start + n)

    def _item(self, seq: int) -> str:
        return f'{{"external_id":"{self.tag}-{seq}",' + self.fragments[seq % len(self.fragments)]

    def single(self) -> bytes:
        (seq,) = self._next_ids(1)
        return self._item(seq).encode()

    def bulk(self, size: int) -> bytes:
        return ('{"items":[' + ",".join(self._item(s) for s in self._next_ids(size)) + "]}").encode()


@dataclass
class Sample:
    start: float
    end: float
    items: int
    ok: bool


@dataclass
class CellResult:
    mode: str
    concurrency: int
    window_s: float
    requests: int
    errors: int
    complaints_per_s: float
    p50_ms: float
    p99_ms: float
    app_cpu_ms: float = float("nan")  # gunicorn workers' CPU per complaint in the window
    db_cpu_ms: float = float("nan")  # PostgreSQL backends' CPU per complaint (SQLite: inside app)
    error_examples: list = field(default_factory=list)


def drive(
    port: int,
    token: str,
    *,
    mode: str,
    concurrency: int,
    duration: float,
    warmup: float,
    payloads: Payloads,
    windows: int = 1,
    cpu_probe=lambda: ({}, {}),
) -> tuple[list[CellResult], int]:
    """Keep ``concurrency`` clients busy and measure ``windows`` consecutive windows of
    ``duration`` seconds once the load is steady: (one ``CellResult`` per window, failed
    requests over the whole run including warm-up and drain)."""
    path = "/api/v1/complaints" + ("/bulk" if mode == "bulk" else "")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    per_request = BULK_SIZE if mode == "bulk" else 1
    stop = threading.Event()
    first_done = threading.Semaphore(0)
    samples: list[list[Sample]] = [[] for _ in range(concurrency)]
    errors: list[str] = []

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        first = True
        while not stop.is_set():
            body = payloads.bulk(BULK_SIZE) if mode == "bulk" else payloads.single()
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                ok = resp.status == (200 if mode == "bulk" else 201)
                if ok and mode == "bulk":
                    ok = json.loads(data)["created"] == BULK_SIZE
                if not ok and len(errors) < 5:
                    errors.append(f"{resp.status} {data[:200]!r}")
            except (OSError, http.client.HTTPException) as exc:
                ok = False
                if len(errors) < 5:
                    errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            samples[slot].append(Sample(start, time.perf_counter(), per_request, ok))
            if first:
                first_done.release()
                first = False
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for _ in range(concurrency):
        first_done.acquire()
    time.sleep(max(0.0, warmup - (time.perf_counter() - started)))
    marks = [(time.perf_counter(), cpu_probe())]
    for _ in range(windows):
        time.sleep(duration)
        marks.append((time.perf_counter(), cpu_probe()))
    stop.set()
    for t in threads:
        t.join()
    everything = [s for slot in samples for s in slot]
    results = [
        _window_result(mode, concurrency, everything, begin, end, errors)
        for (begin, end) in zip(marks, marks[1:], strict=False)
    ]
    return results, sum(not s.ok for s in everything)


def _window_result(mode: str, concurrency: int, samples: list[Sample], begin, end, errors) -> CellResult:
    """Latency from the requests that finished in the window; throughput from every request's
    overlap with it (a 1,000-item request half inside counts 500), so a window holding only a
    few bulk requests is not rounded to whole requests."""
    (t0, cpu0), (t1, cpu1) = begin, end
    inside = [s for s in samples if t0 <= s.end <= t1]
    good = [s for s in inside if s.ok]
    latencies = [(s.end - s.start) * 1000 for s in good]
    created = sum(
        s.items * (min(s.end, t1) - max(s.start, t0)) / (s.end - s.start)
        for s in samples
        if s.ok and s.end > t0 and s.start < t1 and s.end > s.start
    )
    app_cpu, db_cpu = (
        _cpu_delta(a, b) * 1000 / created if created and b else float("nan") for a, b in zip(cpu0, cpu1, strict=True)
    )
    return CellResult(
        mode=mode,
        concurrency=concurrency,
        window_s=round(t1 - t0, 2),
        requests=len(inside),
        errors=len(inside) - len(good),
        complaints_per_s=created / (t1 - t0),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        app_cpu_ms=app_cpu,
        db_cpu_ms=db_cpu,
        error_examples=errors if len(good) < len(inside) else [],
    )


def prepare_database(db: str, work: Path) -> tuple[str, dict[str, str]]:
    """A fresh database for intake; returns (DATABASE_URL, child environment)."""
    if db == "postgres":
        pg_recreate(INTAKE_PG_DB)
        url = pg_url(INTAKE_PG_DB)
    else:
        url = sqlite_url(work / "intake.sqlite3")
    var_dir = work / "var"
    var_dir.mkdir(exist_ok=True)
    return url, child_env(url, str(var_dir))


def run_intake(
    db: str,
    *,
    concurrencies: list[int],
    repeat: int,
    single_seconds: float,
    bulk_seconds: float,
    warmup: float,
    server: ServerConfig,
    modes: tuple[str, ...] = ("single", "bulk"),
) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"kx-bench-intake-{db}-"))
    url, env = prepare_database(db, work)
    log(f"intake/{db}: migrating a fresh database and creating the organisation")
    boot = run_child("bootstrap", [], env)
    server_proc = Gunicorn(env, server, work)
    cells: dict[str, list[dict]] = {}
    failures: dict[str, int] = {}
    try:
        server_proc.wait_ready(boot["token"])
        payloads = Payloads(boot["leaves"], tag=f"bench{os.getpid()}")
        for mode in modes:
            for concurrency in concurrencies:
                seconds = bulk_seconds if mode == "bulk" else single_seconds
                results, failed = drive(
                    server_proc.port,
                    boot["token"],
                    mode=mode,
                    concurrency=concurrency,
                    duration=seconds,
                    warmup=warmup,
                    payloads=payloads,
                    windows=repeat,
                    cpu_probe=lambda: (
                        server_proc.cpu_seconds(),
                        postgres_cpu(INTAKE_PG_DB) if db == "postgres" else {},
                    ),
                )
                for r, result in enumerate(results):
                    log(
                        f"intake/{db} {mode} c={concurrency} window {r + 1}/{repeat}: "
                        f"{result.complaints_per_s:.0f}/s p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms "
                        f"CPU/complaint app {result.app_cpu_ms:.2f} ms db {result.db_cpu_ms:.2f} ms "
                        f"({result.requests} requests, {result.errors} errors)"
                    )
                    if result.error_examples:
                        log(f"  errors: {result.error_examples[:2]}")
                if failed:
                    log(f"intake/{db} {mode} c={concurrency}: {failed} failed request(s) in the whole run")
                cells[f"{mode}/{concurrency}"] = [result.__dict__ for result in results]
                failures[f"{mode}/{concurrency}"] = failed
    finally:
        server_proc.stop()
        shutil.rmtree(work, ignore_errors=True)
    summary = {}
    for key, runs in cells.items():
        summary[key] = {
            "complaints_per_s": median([r["complaints_per_s"] for r in runs]),
            "p50_ms": median([r["p50_ms"] for r in runs]),
            "p99_ms": median([r["p99_ms"] for r in runs]),
            "app_cpu_ms": median([r["app_cpu_ms"] for r in runs]),
            "db_cpu_ms": median([r["db_cpu_ms"] for r in runs]),
            "requests": sum(r["requests"] for r in runs),
            "errors": failures[key],  # over the whole run, warm-up and drain included
        }
    return {"database": db, "server": server.label, "runs": cells, "summary": summary}
