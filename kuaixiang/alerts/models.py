"""Warning rules, counters, warnings with their timeline, silences and similar-text clusters.

A rule is data (rule pack ``alerts:`` section, admin). Intake keeps one counter row per
(rule, scope key, window) up to date with an upsert, so a count rule never counts complaints
with ``COUNT(*)``; baseline rules read hourly counters. A warning is one row per
(rule, scope key, window): counts grow and the level may rise, it is never duplicated.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WindowKind(models.TextChoices):
    ROLLING_MINUTES = "rolling_minutes", _("滚动分钟")
    ROLLING_HOURS = "rolling_hours", _("滚动小时")
    ROLLING_DAYS = "rolling_days", _("滚动天")
    CALENDAR_DAY = "calendar_day", _("自然日")
    CALENDAR_MONTH = "calendar_month", _("自然月")


class Measure(models.TextChoices):
    NEW = "new", _("新增投诉")
    ESCALATED = "escalated", _("升级督办投诉")
    REPEAT = "repeat", _("重复投诉")
    FLAGGED = "flagged", _("带关注标记的投诉")


class Condition(models.TextChoices):
    THRESHOLD = "threshold", _("阈值")
    SAME_HOUR_RATIO = "same_hour_ratio", _("与近几周同一小时之比")
    HOUR_CHANGE = "hour_change", _("较上一小时变化")
    POISSON = "poisson", _("统计检测（泊松）")


class GroupBy(models.TextChoices):
    ALL = "all", _("整体")
    CATEGORY = "category", _("按分类")
    CHANNEL = "channel", _("按渠道")
    CLUSTER = "cluster", _("按相似投诉簇")


class WarningRule(models.Model):
    """One warning rule: what is counted (scope, measure), over which window, and when it warns.

    ``levels`` is a list of ``{"level": 1..3, "at": number, "notify": {"roles": [...],
    "functions": [...], "duty": bool}}``: the warning takes the highest level whose ``at`` the
    rule's figure reaches (the count for ``threshold``; the ratio for the baseline conditions; the
    observed/expected ratio for ``poisson`` while its test rejects). Notification goes to the holders
    of ``roles`` in the departments with ``functions`` (and in the rule's branch or HQ for leaders
    and managers), through the duty roster when ``duty`` is true.
    """

    code = models.SlugField(_("编码"), max_length=64)
    name = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    active = models.BooleanField(_("启用"), default=True)
    pack = models.CharField(_("规则包"), max_length=64, blank=True)
    sandbox = models.BooleanField(_("沙箱规则"), default=False, help_text=_("只用于回放与演练的沙箱机构"))

    category = models.ForeignKey(
        "triage.Category",
        verbose_name=_("分类（含下级）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("渠道"), max_length=20, blank=True)
    branch = models.ForeignKey(
        "org.Department",
        verbose_name=_("分公司/区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    flag = models.CharField(_("关注标记"), max_length=20, blank=True)
    group_by = models.CharField(_("统计维度"), max_length=16, choices=GroupBy.choices, default=GroupBy.CATEGORY)
    category_level = models.PositiveSmallIntegerField(
        _("分类层级"), null=True, blank=True, help_text=_("按分类统计时归到第几级节点；空表示工单所在节点")
    )

    window_kind = models.CharField(_("窗口"), max_length=20, choices=WindowKind.choices)
    window_size = models.PositiveIntegerField(_("窗口长度"), default=1)
    measure = models.CharField(_("统计对象"), max_length=16, choices=Measure.choices, default=Measure.NEW)
    condition = models.CharField(_("条件"), max_length=20, choices=Condition.choices, default=Condition.THRESHOLD)
    params = models.JSONField(_("检测参数"), default=dict, blank=True)
    min_count = models.PositiveIntegerField(_("最少件数"), default=1)
    levels = models.JSONField(_("级别与通知"), default=list)
    crisis = models.BooleanField(_("危机级"), default=False, help_text=_("达到最高级别即按危机事件处理"))

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["code", "sandbox"], name="alerts_rule_code")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def level_for(self, figure: float) -> int:
        """The highest level whose ``at`` ``figure`` reaches; 0 when none."""
        reached = [int(x["level"]) for x in self.levels if figure >= float(x["at"])]
        return max(reached, default=0)

    def threshold_for(self, level: int) -> float | None:
        for x in self.levels:
            if int(x["level"]) == level:
                return float(x["at"])
        return None

    def notify_for(self, level: int) -> dict:
        for x in self.levels:
            if int(x["level"]) == level:
                return x.get("notify") or {}
        return {}


class WarningCounter(models.Model):
    """Complaints counted for one rule, scope key and bucket (the window for calendar windows, one
    minute/hour/day for rolling ones). Written with an upsert; never recounted."""

    rule = models.ForeignKey(WarningRule, on_delete=models.CASCADE, related_name="+")
    scope_key = models.CharField(max_length=100)
    bucket = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "scope_key", "bucket"], name="alerts_counter_key")]


class CounterMember(models.Model):
    """A complaint already counted in a window (escalated measure counts complaints, not steps)."""

    rule = models.ForeignKey(WarningRule, on_delete=models.CASCADE, related_name="+")
    scope_key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "scope_key", "window_start", "complaint"], name="alerts_counter_member"
            )
        ]


class HourlyCount(models.Model):
    """New complaints per hour and scope (``cat:<id>`` for every category node on the path,
    ``chan:<channel>``, ``all``): the series baseline detectors and the board read."""

    sandbox = models.BooleanField(default=False)
    scope_key = models.CharField(max_length=100)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sandbox", "scope_key", "hour"], name="alerts_hourly_key")]
        indexes = [models.Index(fields=["sandbox", "hour"], name="alerts_hourly_hour")]


class Cluster(models.Model):
    """Near-duplicate or very similar complaints within a window (SimHash neighbours)."""

    sandbox = models.BooleanField(default=False)
    simhash = models.BigIntegerField()
    size = models.PositiveIntegerField(default=0)
    top_terms = models.JSONField(default=list, blank=True)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        verbose_name = _("相似投诉簇")
        verbose_name_plural = _("相似投诉簇")
        indexes = [models.Index(fields=["sandbox", "last_at"], name="alerts_cluster_recent")]

    def __str__(self) -> str:
        return "cluster: " + " ".join(self.top_terms[:5])


class ClusterMember(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="members")
    complaint = models.OneToOneField("complaints.Complaint", on_delete=models.CASCADE, related_name="+")
    simhash = models.BigIntegerField()
    at = models.DateTimeField()


class Warning(models.Model):
    """A warning (预警): one per (rule, scope key, window), updated as the count grows."""

    class Status(models.TextChoices):
        OPEN = "open", _("待确认")
        ACKNOWLEDGED = "acknowledged", _("已确认")
        ASSIGNED = "assigned", _("已指派")
        RESOLVED = "resolved", _("已解除")

    rule = models.ForeignKey(WarningRule, verbose_name=_("规则"), on_delete=models.PROTECT, related_name="warnings")
    sandbox = models.BooleanField(_("沙箱"), default=False)
    scope_key = models.CharField(_("范围键"), max_length=100)
    scope_label = models.CharField(_("范围"), max_length=300)
    window_start = models.DateTimeField(_("窗口开始"))
    window_end = models.DateTimeField(_("窗口结束"))
    level = models.PositiveSmallIntegerField(_("级别"))
    count = models.PositiveIntegerField(_("件数"), default=0)
    figure = models.FloatField(_("指标"), default=0)
    expected = models.FloatField(_("基线"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    department = models.ForeignKey(
        "org.Department", verbose_name=_("责任部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        "triage.Category", verbose_name=_("分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("渠道"), max_length=20, blank=True)
    cluster = models.ForeignKey(
        Cluster, verbose_name=_("相似簇"), null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings"
    )
    silenced = models.BooleanField(_("已静默"), default=False)
    notified_level = models.PositiveSmallIntegerField(_("已通知级别"), default=0)
    raised_at = models.DateTimeField(_("发出时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("指派时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    cause = models.TextField(_("原因"), blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        constraints = [
            models.UniqueConstraint(fields=["rule", "scope_key", "window_start"], name="alerts_warning_window"),
        ]
        indexes = [
            models.Index(fields=["sandbox", "status", "-raised_at"], name="alerts_warning_status"),
            models.Index(fields=["rule", "scope_key", "-window_end"], name="alerts_warning_scope"),
        ]
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule.name}：{self.scope_label}（{self.level}级）"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED

    @property
    def is_crisis(self) -> bool:
        """The rule is crisis-level and this warning has reached its top level (seed 000: ≥ 5
        escalated complaints on one problem in a month)."""
        return self.rule.crisis and self.level >= max((int(x["level"]) for x in self.rule.levels), default=3)


EVENT_LABELS = {
    "raised": _("发出"),
    "rose": _("升级"),
    "notified": _("已通知"),
    "inhibited": _("被高级别抑制"),
    "silenced": _("静默"),
    "acknowledged": _("确认"),
    "assigned": _("指派"),
    "linked": _("关联工单"),
    "resolved": _("解除"),
}


class WarningEvent(models.Model):
    """The warning's timeline: one row per kind in ``EVENT_LABELS``."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20)
    level = models.PositiveSmallIntegerField(default=0)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["warning", "at", "id"], name="alerts_event_timeline")]

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.kind, self.kind))


class WarningComplaint(models.Model):
    """A complaint behind a warning: counted by the rule, or linked by hand."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="links")
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="+")
    manual = models.BooleanField(default=False)
    linked_at = models.DateTimeField()
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["warning", "complaint"], name="alerts_warning_complaint")]


MAX_SILENCE = timedelta(days=30)


class Silence(models.Model):
    """Mute notifications for matching warnings until ``ends_at`` (planned maintenance).

    A warning matches when every non-empty matcher matches: ``rule``, ``category`` (its subtree),
    ``channel`` and ``scope_contains`` (a substring of the scope label), and its level is at most
    ``max_level``. Silenced warnings are still recorded, only not notified."""

    rule = models.ForeignKey(
        WarningRule, verbose_name=_("规则"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "triage.Category", verbose_name=_("分类（含下级）"), null=True, blank=True, on_delete=models.CASCADE
    )
    channel = models.CharField(_("渠道"), max_length=20, blank=True)
    scope_contains = models.CharField(_("范围包含"), max_length=100, blank=True)
    max_level = models.PositiveSmallIntegerField(_("最高级别"), default=3)
    comment = models.CharField(_("原因"), max_length=300)
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("静默")
        verbose_name_plural = _("静默")
        indexes = [models.Index(fields=["ends_at"], name="alerts_silence_end", condition=Q(ends_at__isnull=False))]

    def __str__(self) -> str:
        return self.comment

    def clean(self):
        if self.starts_at and self.ends_at and not timedelta(0) < self.ends_at - self.starts_at <= MAX_SILENCE:
            raise ValidationError(_("静默结束时间须晚于开始时间，且不超过 30 天"))
        if not 1 <= self.max_level <= 3:
            raise ValidationError(_("最高级别应为 1–3"))


class DetectorState(models.Model):
    """The running statistic of a baseline rule for one scope (the CUSUM value), and the hourly
    count already fed to it, so each periodic evaluation adds only the complaints since the last."""

    rule = models.ForeignKey(WarningRule, on_delete=models.CASCADE, related_name="+")
    scope_key = models.CharField(max_length=100)
    value = models.FloatField(default=0)
    seen_hour = models.DateTimeField(null=True)
    seen_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "scope_key"], name="alerts_detector_state")]
