"""manage.py replay --csv PATH [--rulepack NAME] [--speed N | --instant] [--keep]"""

import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from kuaixiang.alerts.replay import replay_rows
from kuaixiang.errors import DomainError

COLUMNS = ("received_at", "channel", "category", "text")


class Command(BaseCommand):
    help = (
        "把 CSV（received_at,channel,category,text[,phone]）经正常受理流程回放到演练沙箱，"
        "以 CSV 输出产生的预警：raised_at,rule,scope,level,count"
    )

    def add_arguments(self, parser):
        parser.add_argument("--csv", required=True, help="CSV 文件路径（UTF-8，首行为列名）")
        parser.add_argument("--rulepack", default="telecom", help="预警规则所在规则包（默认 telecom）")
        pace = parser.add_mutually_exclusive_group()
        pace.add_argument("--speed", type=float, help="按原始节奏的 N 倍速回放")
        pace.add_argument("--instant", action="store_true", help="尽快回放（默认），在 stderr 显示进度")
        parser.add_argument("--keep", action="store_true", help="不清空沙箱，保留之前的回放数据")

    def handle(self, *args, **options):
        if options["speed"] is not None and not 0 < options["speed"] <= 1e6:
            raise CommandError("--speed 应为正数")
        try:
            handle = open(options["csv"], encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"无法读取 {options['csv']}：{exc}") from None
        out = csv.writer(self.stdout, lineterminator="\n")
        err = self.stderr

        def rows():
            with handle:
                reader = csv.DictReader(handle)
                missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise CommandError(f"CSV 缺少列：{', '.join(missing)}")
                for row in reader:
                    yield dict(row, line=reader.line_num)

        def on_progress(done: int, seconds: float) -> None:
            err.write(f"已回放 {done} 条，{done / seconds:.0f} 条/秒")

        out.writerow(["raised_at", "rule", "scope", "level", "count"])
        try:
            result = replay_rows(
                rows(),
                rulepack=options["rulepack"],
                keep=options["keep"],
                speed=options["speed"],
                on_warning=lambda w: (out.writerow(w.csv()), self.stdout.flush()),
                on_skip=lambda line, message: err.write(f"第 {line} 行：{message}，已跳过"),
                on_progress=on_progress if options["instant"] or sys.stderr.isatty() else None,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        err.write(
            f"完成：{result.rows} 行，登记 {result.registered} 条，跳过 {len(result.skipped)} 行，"
            f"预警 {len(result.warnings)} 条，用时 {result.seconds:.1f} 秒（{result.rate:.0f} 条/秒）"
        )
