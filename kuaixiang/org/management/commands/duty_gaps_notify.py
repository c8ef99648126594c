from django.core.management.base import BaseCommand

from kuaixiang.org.services import gaps_notify


class Command(BaseCommand):
    help = "通知各部门负责人未来若干天（默认 7 天）值班表中的缺口。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="检查的天数（1–31）")

    def handle(self, *args, days: int, **options):
        if not 1 <= days <= 31:
            self.stderr.write("--days 须在 1–31 之间")
            raise SystemExit(2)
        notified = gaps_notify(days=days)
        self.stdout.write(f"已通知 {notified} 个部门")
