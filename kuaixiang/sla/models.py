import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kuaixiang.sla.worktime import SHANGHAI, Unit, parse_week_hours

# The default calendar `cn`: Mon–Fri 09:00–12:00 and 13:30–18:00 (docs/calendar.md).
DEFAULT_HOURS = {day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def default_hours() -> dict:
    return {day: [list(pair) for pair in pairs] for day, pairs in DEFAULT_HOURS.items()}


def new_revision() -> str:
    return uuid.uuid4().hex


class Calendar(models.Model):
    """A business calendar (工作日历): weekly business hours plus day data.

    Day data comes from the `chinesecalendar` package (when ``use_package``) for the years it
    knows, and from :class:`CalendarDay` rows, which win over the package. A year is covered
    when the package knows it or it is listed in ``covered_years``.
    """

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    timezone = models.CharField(
        _("时区"), max_length=40, default=SHANGHAI, editable=False, help_text=_("固定为 Asia/Shanghai")
    )
    business_hours = models.JSONField(
        _("营业时间"),
        default=default_hours,
        help_text=_(
            '按星期填写时段，例如 {"mon": [["08:30", "12:00"], ["13:30", "17:30"]], ...}；'
            '未列出的星期为休息日；可选 "makeup" 指定调休上班日的时段（默认同周一）。'
        ),
    )
    use_package = models.BooleanField(
        _("使用 chinesecalendar 法定节假日数据"), default=True, help_text=_("关闭后只使用下方的节假日/调休表")
    )
    covered_years = models.JSONField(
        _("自行维护的年份"),
        default=list,
        blank=True,
        help_text=_("节假日与调休已在本表完整录入的年份，例如 [2027]；软件包未覆盖的年份须在此列出才能计算"),
    )
    revision = models.CharField(max_length=32, default=new_revision, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        try:
            parse_week_hours(self.business_hours)
        except ValueError as exc:
            raise ValidationError({"business_hours": str(exc)}) from exc
        years = self.covered_years
        if not isinstance(years, list) or not all(isinstance(y, int) and 1900 < y < 2200 for y in years):
            raise ValidationError({"covered_years": _("应为年份列表，例如 [2027, 2028]")})

    def save(self, *args, **kwargs):
        self.revision = new_revision()
        super().save(*args, **kwargs)

    def touch(self) -> None:
        """Mark the calendar changed so every process rebuilds its cached kernel value."""
        self.revision = new_revision()
        Calendar.objects.filter(pk=self.pk).update(revision=self.revision)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("节假日")
    WORKDAY = "workday", _("调休上班")
    CLOSURE = "closure", _("停业")


class CalendarDay(models.Model):
    """An override of one date (节假日/调休上班/停业); it wins over the package's data."""

    calendar = models.ForeignKey(Calendar, verbose_name=_("工作日历"), on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=100, help_text=_("例如 春节、国庆节、系统迁移停业"))

    class Meta:
        verbose_name = _("节假日/调休")
        verbose_name_plural = _("节假日/调休")
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="sla_calendarday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


# ---------------------------------------------------------------- SLA policies (docs/sla.md)


class Stage(models.TextChoices):
    FIRST_CONTACT = "first_contact", _("首次联系")
    ACCEPTANCE = "acceptance", _("受理决定")
    DEPARTMENT_RETURN = "department_return", _("部门回单")
    REPLY = "reply", _("答复")
    REVISIT = "revisit", _("回访")
    CLOSURE = "closure", _("办结")
    DISPATCH = "dispatch", _("派单转交")
    SOLUTION = "solution", _("处理方案")
    ON_SITE = "on_site", _("上门")
    VERIFICATION = "verification", _("落实确认")


class PauseReason(models.TextChoices):
    """Why a complaint is suspended (挂起原因类别); a policy says which of them stop which clocks."""

    CUSTOMER = "customer", _("等待客户")
    TEST = "test", _("等待检测")
    APPRAISAL = "appraisal", _("等待鉴定")
    OTHER = "other", _("其他")


class Difficulty(models.TextChoices):
    """Difficulty of a complaint (难易程度), read from ``Complaint.extra["difficulty"]``."""

    SIMPLE = "simple", _("简单")
    HARDER = "harder", _("较难")
    COMPLEX = "complex", _("复杂")


UNIT_LABELS = {
    Unit.CLOCK_MINUTES: _("自然分钟"),
    Unit.CLOCK_HOURS: _("自然小时"),
    Unit.WORKING_MINUTES: _("工作分钟"),
    Unit.WORKING_HOURS: _("工作小时"),
    Unit.WORKING_DAYS: _("工作日"),
    Unit.NATURAL_DAYS: _("自然日"),
}
# The kernel's units as model choices: one list, so the two cannot drift apart.
TimeUnit = models.TextChoices("TimeUnit", [(u.name, (u.value, UNIT_LABELS[u])) for u in Unit])


class SlaPolicy(models.Model):
    """One version of a time-limit policy (时限策略). A complaint uses the version in force at
    its receipt and keeps it; change a rule by adding a new version with a later
    ``effective_from`` (and closing the old one with ``effective_to``), never by editing."""

    code = models.SlugField(_("编码"), max_length=50)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("名称"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)
    effective_from = models.DateTimeField(_("生效时间"))
    effective_to = models.DateTimeField(_("失效时间"), null=True, blank=True, help_text=_("空表示长期有效"))
    priority = models.IntegerField(_("优先级"), default=0, help_text=_("数值大者优先；相同时条件更具体者优先"))
    channels = models.JSONField(_("渠道"), default=list, blank=True, help_text=_("渠道编码列表；空表示全部"))
    severities = models.JSONField(_("等级"), default=list, blank=True, help_text=_("等级编码列表；空表示全部"))
    category = models.ForeignKey(
        "triage.Category",
        verbose_name=_("分类（含下级）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    branch = models.ForeignKey(
        "org.Department",
        verbose_name=_("分公司"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("受理单位（分公司或总部）；空表示全部"),
    )
    intents = models.JSONField(
        _("投诉意图"), default=list, blank=True, help_text=_("suggestion、grievance、malicious 的列表；空表示全部")
    )
    difficulties = models.JSONField(
        _("难易程度"),
        default=list,
        blank=True,
        help_text=_("simple、harder、complex 的列表（取自工单扩展字段 difficulty）；空表示全部"),
    )
    flags = models.JSONField(
        _("标记"),
        default=list,
        blank=True,
        help_text=_("工单扩展字段中须为真的标记，例如 upstream（需上游运营商处理）；空表示不限"),
    )
    pause_on_suspend = models.BooleanField(
        _("挂起时停止计时"), default=True, help_text=_("挂起原因类别未在“暂停规则”中列出时：是否暂停全部环节")
    )
    pause_reasons = models.JSONField(
        _("暂停规则"),
        default=dict,
        blank=True,
        help_text=_(
            '挂起原因类别 → 暂停的环节列表，"*" 表示全部，例如 {"customer": ["*"], "test": ["reply", "closure"]}'
        ),
    )
    digest = models.BooleanField(
        _("督办汇总通知"), default=False, help_text=_("每次巡检每人只收一条消息，列出其全部新督办工单")
    )
    # Renewed on every save of the policy, its targets or its ladder: processes cache the
    # policy table and reload it when the newest updated_at (or the count) changes.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("时限策略")
        verbose_name_plural = _("时限策略")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="sla_policy_code_version")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"

    def clean(self) -> None:
        if self.effective_to and self.effective_to <= self.effective_from:
            raise ValidationError({"effective_to": _("失效时间应晚于生效时间")})
        for field in ("channels", "severities", "intents", "difficulties", "flags"):
            value = getattr(self, field)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError({field: _("应为字符串列表")})
        if not pause_rules_valid(self.pause_reasons):
            raise ValidationError({"pause_reasons": _("应为 挂起原因类别 → 环节列表 的映射")})

    def paused_stages(self, reason: str) -> set[str] | None:
        """Stages a suspension for ``reason`` stops ({"*"} = all, empty set = none)."""
        rules = self.pause_reasons or {}
        if reason in rules:
            return set(rules[reason])
        return {"*"} if self.pause_on_suspend else set()


def pause_rules_valid(value) -> bool:
    stages = {*Stage.values, "*"}
    return isinstance(value, dict) and all(
        key in PauseReason.values and isinstance(v, list) and set(v) <= stages for key, v in value.items()
    )


class SlaTarget(models.Model):
    """The time limit of one stage under a policy, optionally only for departments of one function."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    stage = models.CharField(_("环节"), max_length=20, choices=Stage.choices)
    department_function = models.CharField(
        _("处理部门职能"),
        max_length=32,
        blank=True,
        help_text=_("只对该职能的处理部门生效（如 network 网络部）；空表示其他部门"),
    )
    amount = models.DecimalField(_("时限"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=20, choices=TimeUnit.choices)
    calendar = models.ForeignKey(
        Calendar, verbose_name=_("工作日历"), null=True, blank=True, on_delete=models.PROTECT, help_text=_("空表示 cn")
    )
    warn_ratio = models.DecimalField(_("预警点"), max_digits=3, decimal_places=2, default=0.75)
    holiday_roll = models.BooleanField(_("截止日遇法定节假日顺延"), default=False)

    class Meta:
        verbose_name = _("环节时限")
        verbose_name_plural = _("环节时限")
        constraints = [
            models.UniqueConstraint(fields=["policy", "stage", "department_function"], name="sla_target_stage_function")
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.amount} {self.get_unit_display()}"

    def clean(self) -> None:
        if self.amount is not None and self.amount < 0:
            raise ValidationError({"amount": _("时限不能为负")})
        if self.unit in (TimeUnit.WORKING_DAYS, TimeUnit.NATURAL_DAYS) and self.amount != int(self.amount or 0):
            raise ValidationError({"amount": _("按天计算时须为整数")})
        if self.warn_ratio is not None and not 0 < self.warn_ratio <= 1:
            raise ValidationError({"warn_ratio": _("预警点应在 0 到 1 之间，例如 0.75")})


class EscalationTrigger(models.TextChoices):
    WARN = "warn", _("预警点")
    BREACH = "breach", _("超时")


class EscalationStep(models.Model):
    """One rung of a policy's escalation ladder (分级督办): when, and whom to tell."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="ladder")
    level = models.PositiveSmallIntegerField(_("级别"))
    trigger = models.CharField(_("起点"), max_length=8, choices=EscalationTrigger.choices)
    offset_amount = models.DecimalField(_("延后"), max_digits=8, decimal_places=2, default=0)
    offset_unit = models.CharField(
        _("延后单位"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS
    )
    notify_roles = models.JSONField(
        _("通知角色"),
        default=list,
        help_text=_("assignee 处理人本人、handler、head（处理部门）、lead、manager（受理部门）、leader（领导）"),
    )

    class Meta:
        verbose_name = _("督办级别")
        verbose_name_plural = _("督办级别")
        ordering = ["policy", "level"]
        constraints = [models.UniqueConstraint(fields=["policy", "level"], name="sla_escalation_level")]

    def __str__(self) -> str:
        return f"L{self.level} {self.get_trigger_display()} +{self.offset_amount} {self.get_offset_unit_display()}"


class ComplaintStage(models.Model):
    """One timed stage of one complaint; ``due_at``/``warn_at`` are computed once when it starts.

    ``due_at`` is NULL with a ``calendar_error`` when the calendar lacks a needed year: the
    deadline is unknown, never guessed. The sweep reads ``next_check_at`` (next escalation).
    """

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="sla_stages")
    stage = models.CharField(_("环节"), max_length=20, choices=Stage.choices)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(SlaTarget, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("开始"))
    due_at = models.DateTimeField(_("时限"), null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(_("预警"), null=True, blank=True, db_index=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    breached = models.BooleanField(default=False)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)
    calendar_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("工单环节时限")
        verbose_name_plural = _("工单环节时限")
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["next_check_at"], name="sla_stage_check", condition=Q(next_check_at__isnull=False)),
            models.Index(fields=["complaint", "completed_at"], name="sla_stage_complaint"),
            # The supervision board reads running, unpaused stages past their warning point.
            models.Index(
                fields=["warn_at"],
                name="sla_stage_open_warn",
                condition=Q(completed_at__isnull=True, paused_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.stage}"


class DigestItem(models.Model):
    """One escalation level of one complaint waiting to go out in its recipient's digest
    (督办汇总). Written in the escalation's transaction (so exactly once per level); the
    sweep's flush claims unsent items and sends one message per person."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(ComplaintStage, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("督办汇总条目")
        verbose_name_plural = _("督办汇总条目")
        indexes = [
            models.Index(fields=["recipient", "id"], name="sla_digest_unsent", condition=Q(sent_at__isnull=True))
        ]
