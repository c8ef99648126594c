"""Grading rules: complaints graded per second by the kernel with the telecom rule pack, one core.

What is timed is what ``triage.assess`` does per complaint once the counts are fetched: build
the :class:`~kuaixiang.triage.grading.Facts` (text normalised for keyword and regex matching)
and evaluate every rule of ``rulepacks/telecom/grading.yaml`` (:func:`grading.grade`). The
texts are the 21,732 real reviews of ``../shared/data/complaints_dev.csv`` when present,
otherwise generated complaint texts (``benchmarks/texts.py``); a share of the complaints carry
a claimed amount, an anonymous flag, a repeat and counts, so every kind of condition runs.

    .venv/bin/python benchmarks/bench_grading.py [--quick] [--runs 5] [--pin]

``--db`` is accepted for the harness and ignored: the kernel touches no database.
``main()`` returns ``{"per_second_median", "runs", "rules", "texts", "ok", ...}``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from benchmarks.common import pin_one_core  # noqa: E402
from benchmarks.texts import TextGenerator, load_csv_texts  # noqa: E402
from kuaixiang.triage import grading  # noqa: E402

RULES = ROOT / "rulepacks" / "telecom" / "grading.yaml"
TARGET_PER_SECOND = 10_000


def complaints(n: int, seed: int = 4) -> list[dict]:
    """``n`` complaint-like inputs: real or generated texts with varied amounts, flags and counts."""
    rng = random.Random(seed)
    texts = load_csv_texts()
    if not texts:
        generator = TextGenerator(seed, use_csv=False)
        texts = [generator.description(rng.choice(["net", "bill", "biz", "svc"]), i) for i in range(5000)]
    out = []
    for i in range(n):
        anonymous = rng.random() < 0.03
        out.append(
            {
                "subject": rng.choice(["营业厅", "宽带", "5G套餐", "客服热线", ""]),
                "description": texts[i % len(texts)],
                "appeal": rng.choice(["要求退费", "尽快处理", "", "要求赔偿"]),
                "channel": rng.choice(["phone", "phone", "app", "wechat", "hotline_12345", "media", "government"]),
                "amount": Decimal(rng.choice([50, 500, 20000, 150000])) if rng.random() < 0.1 else None,
                "anonymous": anonymous,
                "has_phone": not anonymous,
                "repeat": rng.random() < 0.05,
                "phone_counts": {30: rng.choice([1, 1, 1, 2, 3])},
                "subject_counts": {30: rng.choice([1, 2, 5, 12])},
                "category_counts": {7: rng.choice([3, 20, 60])},
            }
        )
    return out


def grade_all(rules, items: list[dict]) -> int:
    """Build the facts and grade each item, as ``triage_assess`` does; return the number of rule matches."""
    matches = 0
    for item in items:
        facts = grading.Facts(
            text=grading.normalise_text(" ".join((item["subject"], item["description"], item["appeal"]))),
            description=item["description"],
            channel=item["channel"],
            amount=item["amount"],
            anonymous=item["anonymous"],
            has_phone=item["has_phone"],
            repeat=item["repeat"],
            phone_counts=item["phone_counts"],
            subject_counts=item["subject_counts"],
            category_counts=item["category_counts"],
        )
        matches += len(grading.grade(rules, facts).matched)
    return matches


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 complaints, 3 runs")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], help="ignored (no database)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--n", type=int, default=100_000, help="complaints per run")
    parser.add_argument("--pin", action="store_true", help="pin the process to one CPU")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.runs = 20_000, 3
    core = pin_one_core() if args.pin else None
    rules = grading.parse_rules(yaml.safe_load(RULES.read_text(encoding="utf-8"))["grading"])
    items = complaints(args.n)
    grade_all(rules, items[:1000])  # warm up (regex caches, allocator)
    rates, matches = [], 0
    for _ in range(args.runs):
        started = time.process_time()
        matches = grade_all(rules, items)
        rates.append(args.n / (time.process_time() - started))
    median = statistics.median(rates)
    ok = median >= TARGET_PER_SECOND
    print("| grading (kernel, telecom rules) | target | result | |")
    print("|---|---|---|---|")
    print(
        f"| complaints graded per CPU second, one core ({len(rules)} rules, median of {args.runs}) "
        f"| ≥ {TARGET_PER_SECOND:,} | {median:,.0f} | {'PASS' if ok else 'MISS'} |"
    )
    print(f"\n{args.n:,} complaints per run, {matches / args.n:.2f} rule matches per complaint on average.")
    return {
        "per_second_median": round(median),
        "runs": [round(r) for r in rates],
        "rules": len(rules),
        "texts": "complaints_dev.csv" if load_csv_texts() else "generated",
        "matches_per_complaint": round(matches / args.n, 3),
        "pinned_core": core,
        "target": TARGET_PER_SECOND,
        "ok": ok,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
