"""Category classifier on the real dev set: 5-fold macro-F1, training time, predictions per second.

Reads ``../shared/data/complaints_dev.csv`` (21,732 labelled negative reviews, 10 product
categories) beside the repository; when it is absent the benchmark says so and returns
``{"skipped": reason}``. Measured on one thread (BLAS/OpenMP pools limited to 1):

* stratified 5-fold cross-validated macro-F1 (features refitted per fold), mean and median;
* training time on the full set, exactly what ``train_classifier`` does (vectorise, 3-fold
  calibration, final fit), median of ``--runs``;
* predictions per second for one text at a time (the registration screen) and in batches
  of 1,000 (``classify``), median of ``--runs``.

Times are given per CPU second of this process (other work on a shared machine does not
count against us, though it still slows us through shared caches) and by the wall clock.

    .venv/bin/python benchmarks/bench_classifier.py [--folds 5] [--runs 3] [--quick] [--pin]

``main()`` returns a dict of the figures (``macro_f1_median``, ``train_seconds``,
``single_per_s``, ``batch_per_s``, ``ok`` ...); ``benchmarks/run.py`` calls it.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # effective when this module is the first to load numpy

import argparse  # noqa: E402
import csv  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script
    sys.path.insert(0, str(ROOT))

from benchmarks.common import pin_one_core  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "complaints_dev.csv"
TARGET_MACRO_F1 = 0.90
TARGET_TRAIN_SECONDS = 60.0
TARGET_PER_SECOND = 2000.0
BATCH = 1000


def _load(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def _timed(fn) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DATA, help=f"labelled CSV (default {DATA})")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="runs per timing, median reported")
    parser.add_argument("--single", type=int, default=5000, help="texts classified one at a time per run")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 folds, 1 run, 1,000 single texts")
    parser.add_argument("--pin", action="store_true", help="pin the process to one CPU (quiet machines)")
    args = parser.parse_args(argv)
    if args.quick:
        args.folds, args.runs, args.single = 2, 1, 1000

    if not args.csv.is_file():
        reason = f"no data at {args.csv}"
        print(f"category classifier: SKIPPED ({reason})")
        return {"skipped": reason}

    from threadpoolctl import threadpool_limits

    from kuaixiang.triage.classifier import cross_validate, prepare_examples, train

    core = pin_one_core() if args.pin else None
    texts, labels = _load(args.csv)
    examples = prepare_examples(texts, labels)
    texts, labels = examples.texts, examples.labels

    with threadpool_limits(1):
        cv_wall, cv_cpu, cv = _timed(lambda: cross_validate(texts, labels, folds=args.folds))

        trains = [_timed(lambda: train(texts, labels)) for _ in range(args.runs)]
        model = trains[-1][2]
        train_wall = statistics.median(t[0] for t in trains)
        train_cpu = statistics.median(t[1] for t in trains)

        sample = texts[: args.single]
        model.suggest(sample[0])  # warm-up

        def one_at_a_time() -> None:
            for text in sample:
                model.suggest(text, k=3)

        def batched() -> None:
            for start in range(0, len(texts), BATCH):
                model.predict(texts[start : start + BATCH])

        singles = [_timed(one_at_a_time) for _ in range(args.runs)]
        batches = [_timed(batched) for _ in range(args.runs)]

    def rates(runs, count: int) -> tuple[float, float]:
        return statistics.median(count / r[1] for r in runs), statistics.median(count / r[0] for r in runs)

    single_cpu, single_wall = rates(singles, len(sample))
    batch_cpu, batch_wall = rates(batches, len(texts))
    figures = {
        "rows": len(texts),
        "labels": len(set(labels)),
        "folds": args.folds,
        "macro_f1_folds": cv["macro_f1"],
        "macro_f1_mean": cv["macro_f1_mean"],
        "macro_f1_median": cv["macro_f1_median"],
        "accuracy_mean": cv["accuracy_mean"],
        "cv_seconds": round(cv_wall, 1),
        "train_seconds": round(train_wall, 2),
        "train_cpu_seconds": round(train_cpu, 2),
        "oof_macro_f1": model.header["metrics"].get("oof_macro_f1"),
        "n_features": model.header["n_features"],
        "single_per_s": round(single_cpu),
        "single_per_s_wall": round(single_wall),
        "batch_per_s": round(batch_cpu),
        "batch_per_s_wall": round(batch_wall),
        "runs": args.runs,
        "pinned_cpu": core,
        "load": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None,
        "targets": {"macro_f1": TARGET_MACRO_F1, "train_seconds": TARGET_TRAIN_SECONDS, "per_s": TARGET_PER_SECOND},
    }
    figures["ok"] = {
        "macro_f1": figures["macro_f1_median"] >= TARGET_MACRO_F1,
        "train_seconds": train_wall < TARGET_TRAIN_SECONDS,
        "per_s": min(single_cpu, batch_cpu) >= TARGET_PER_SECOND,
    }
    _print(figures)
    return figures


def _print(f: dict) -> None:
    ok = f["ok"]
    mark = {True: "met", False: "NOT met"}
    where = "" if f["pinned_cpu"] is None else f", pinned to cpu {f['pinned_cpu']}"
    print(
        f"category classifier: {f['rows']:,} texts, {f['labels']} labels, {f['n_features']:,} features; "
        f"one thread{where}, load {f['load']}; medians of {f['runs']} runs"
    )
    print(f"{'figure':<34}{'value':>16}{'target':>12}  ")
    rows = [
        (f"{f['folds']}-fold macro-F1 median (mean)", f"{f['macro_f1_median']:.4f} ({f['macro_f1_mean']:.4f})",
         f"≥ {f['targets']['macro_f1']:.2f}", ok["macro_f1"]),
        ("training, full set: wall (CPU) s", f"{f['train_seconds']:.1f} ({f['train_cpu_seconds']:.1f})",
         f"< {f['targets']['train_seconds']:.0f}", ok["train_seconds"]),
        ("one text at a time /CPU s (wall)", f"{f['single_per_s']:,} ({f['single_per_s_wall']:,})",
         f"≥ {f['targets']['per_s']:,.0f}", f["single_per_s"] >= f["targets"]["per_s"]),
        (f"batches of {BATCH:,} /CPU s (wall)", f"{f['batch_per_s']:,} ({f['batch_per_s_wall']:,})",
         f"≥ {f['targets']['per_s']:,.0f}", f["batch_per_s"] >= f["targets"]["per_s"]),
    ]  # fmt: skip
    for name, value, target, met in rows:
        print(f"{name:<34}{value:>16}{target:>12}  {mark[met]}")
    print(f"folds: {f['macro_f1_folds']}; accuracy mean {f['accuracy_mean']:.4f}; CV took {f['cv_seconds']:.0f} s")


if __name__ == "__main__":
    main()
