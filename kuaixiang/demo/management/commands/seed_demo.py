import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from kuaixiang.complaints.models import Complaint
from kuaixiang.demo.organisation import LOGINS
from kuaixiang.demo.services import (
    DEFAULT_ACTIONS_PER_COMPLAINT,
    DEFAULT_SEED,
    demo_exists,
    demo_password,
    demo_reset,
    demo_seed,
    demo_set_password,
)
from kuaixiang.org.models import Staff


class Command(BaseCommand):
    help = (
        "Build the demo organisation, role logins, telecom categories and complaints over the last days. "
        "The password is $DEMO_PASSWORD, or a random one that is printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the database holds data")
        parser.add_argument("--reset", action="store_true", help="delete complaints and the organisation first")
        parser.add_argument("--complaints", type=int, default=2000, help="how many complaints (default 2000)")
        parser.add_argument("--days", type=int, default=30, help="spread them over this many days (default 30)")
        parser.add_argument(
            "--transitions",
            type=int,
            default=None,
            help=f"about how many lifecycle actions to play (default {DEFAULT_ACTIONS_PER_COMPLAINT} per complaint)",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same data)")

    def handle(self, *args, if_empty, reset, complaints, days, transitions, seed, **options):
        if complaints < 0 or days < 1 or (transitions is not None and transitions < 0):
            raise CommandError("--complaints and --transitions must be ≥ 0, --days ≥ 1")
        if if_empty and reset:
            raise CommandError("--if-empty and --reset exclude each other")
        explicit = os.environ.get("DEMO_PASSWORD") or None
        if demo_exists():
            if if_empty:
                self._already_there(explicit)
                return
            if not reset:
                raise CommandError("数据库中已有数据。用 --reset 清空后重建演示数据，或用 --if-empty 跳过。")
            if not (settings.DEMO_MODE or settings.DEBUG or settings.TESTING):
                raise CommandError("--reset 会删除全部工单与组织，只能在演示模式（KX_DEMO=1）或调试模式下使用。")
            demo_reset()
            self.stdout.write("已清空原有工单、通知、组织与人员。")
        password, generated = demo_password(explicit)
        result = demo_seed(password=password, complaints=complaints, days=days, transitions=transitions, seed=seed)
        stats = result.stats
        self.stdout.write(
            f"演示数据已生成（{result.seconds:.1f} 秒）：部门 {len(result.org.departments)} 个，"
            f"人员 {result.org.staff_count} 人，分类 {result.rulepack['categories'].total} 个，"
            f"投诉 {stats.complaints} 条（其中 {stats.walked} 条有后续流转），流转操作 {stats.transitions} 次"
            f"（登记 {stats.intake_seconds:.1f} 秒，流转 {stats.lifecycle_seconds:.1f} 秒）。"
        )
        by_status = dict(Complaint.objects.values_list("status").annotate(n=Count("id")).order_by())
        labels = dict(Complaint._meta.get_field("status").choices)
        self.stdout.write("状态分布：" + "，".join(f"{labels[s]} {n}" for s, n in sorted(by_status.items())))
        self._logins(password, generated)

    def _already_there(self, explicit: str | None) -> None:
        self.stdout.write("数据库中已有数据，跳过生成演示数据（--if-empty）。")
        if explicit and settings.DEMO_MODE:
            demo_set_password(explicit)
            self._logins(explicit, False)
        else:
            self._logins(None, False)

    def _logins(self, password: str | None, generated: bool) -> None:
        port = os.environ.get("PORT") or "8000"
        staff = {s.user.username: s for s in Staff.objects.select_related("user", "department")}
        self.stdout.write("")
        self.stdout.write(f"打开 http://localhost:{port}/ ，演示账号（每个角色一个）：")
        for username, _, _ in LOGINS:
            s = staff.get(username)
            if s is None:
                continue
            name = s.user.get_full_name() or username
            self.stdout.write(f"  {username:<8} {s.get_role_display():<6} {name:<4} {s.department.name}")
        if password is None:
            self.stdout.write(
                "密码：首次生成时已打印。忘记了？用 DEMO_PASSWORD=新密码 make run 重设，或 make demo 重建演示数据。"
            )
        elif generated:
            self.stdout.write(f"密码（随机生成，请记下；用 DEMO_PASSWORD 可指定）：{password}")
        else:
            self.stdout.write(f"密码（DEMO_PASSWORD）：{password}")
        self.stdout.write("")
