"""Crisis incidents (危机事件) run by versioned playbooks (预案).

A :class:`Playbook` (code + version) holds activation criteria, roles and steps. An
:class:`Incident` is opened from a warning or by hand; it copies one :class:`IncidentTask`
per step with a stored ``due_at``, links complaints (:class:`IncidentComplaint`, indexed by
incident and receipt time for the hourly series), publishes explanation scripts
(:class:`ScriptVersion`) and writes every change to its timeline (:class:`IncidentEvent`).
Written only by ``crisis.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kuaixiang.sla.models import TimeUnit


class Severity(models.TextChoices):
    """Incident level, the four colours of Chinese emergency plans (IV blue … I red)."""

    BLUE = "blue", _("蓝色（一般）")
    YELLOW = "yellow", _("黄色（较大）")
    ORANGE = "orange", _("橙色（重大）")
    RED = "red", _("红色（特别重大）")


class Anchor(models.TextChoices):
    ACTIVATION = "activation", _("启动后")
    CLOSE = "close", _("结束后")


class StepScope(models.TextChoices):
    BOTH = "both", _("总部与分公司")
    HQ = "hq", _("仅总部")
    BRANCH = "branch", _("仅分公司")


class StepKind(models.TextChoices):
    """What finishing a step means; some kinds are done by the system when it does the work."""

    GENERIC = "generic", _("一般任务")
    INITIAL_REPORT = "initial_report", _("初报（系统发出即完成）")
    FIX = "fix", _("处理方案")
    SCRIPT = "script", _("统一解释口径（发布即完成）")
    BRANCHES = "branches", _("下发分公司（下发即完成）")
    HOURLY = "hourly", _("逐小时跟踪")
    SPECIAL_REPORT = "special_report", _("专题报告（生成即完成）")


class Playbook(models.Model):
    """One version of an emergency plan. The newest active version of a code is the one used."""

    code = models.SlugField(_("编码"), max_length=50)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    # Activation: any one criterion suffices. A warning at or above ``min_warning_level``, a warning
    # raised by one of ``rule_codes``, or a warning/declaration carrying one of ``flags``.
    min_warning_level = models.PositiveSmallIntegerField(_("预警级别达到"), null=True, blank=True)
    rule_codes = models.JSONField(_("预警规则编码"), default=list, blank=True)
    flags = models.JSONField(_("标记"), default=list, blank=True, help_text=_("如 government（政府关注）、media"))
    default_severity = models.CharField(_("默认级别"), max_length=16, choices=Severity.choices, default=Severity.ORANGE)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("应急预案")
        verbose_name_plural = _("应急预案")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="playbook_code_version")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"


class PlaybookRole(models.Model):
    """A role of the plan (commander, complaint team, PR …) and how it resolves to people:
    staff with one of ``staff_roles`` whose department has one of ``functions`` (any when empty),
    inside the incident's unit (falling back to HQ), or the person on duty for that role."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="roles")
    key = models.SlugField(_("角色键"), max_length=40)
    label = models.CharField(_("名称"), max_length=60)
    staff_roles = models.JSONField(_("人员角色"), default=list)
    functions = models.JSONField(_("部门职能"), default=list, blank=True)

    class Meta:
        verbose_name = _("预案角色")
        verbose_name_plural = _("预案角色")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["playbook", "key"], name="playbook_role_key")]

    def __str__(self) -> str:
        return self.label


class PlaybookStep(models.Model):
    """One step: due ``amount`` ``unit`` after activation or after closing (``amount_by_severity``
    overrides the amount per incident level), owned by a role, with a checklist and recipients."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    key = models.SlugField(_("步骤键"), max_length=40)
    title = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=20, choices=StepKind.choices, default=StepKind.GENERIC)
    anchor = models.CharField(_("起算"), max_length=16, choices=Anchor.choices, default=Anchor.ACTIVATION)
    amount = models.DecimalField(_("时限"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=20, choices=TimeUnit.choices)
    amount_by_severity = models.JSONField(_("按级别时限"), default=dict, blank=True)
    owner_role = models.SlugField(_("负责角色"), max_length=40)
    checklist = models.JSONField(_("检查项"), default=list, blank=True)
    notify_roles = models.JSONField(_("通知角色"), default=list, blank=True)
    scope = models.CharField(_("适用"), max_length=10, choices=StepScope.choices, default=StepScope.BOTH)

    class Meta:
        verbose_name = _("预案步骤")
        verbose_name_plural = _("预案步骤")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["playbook", "key"], name="playbook_step_key")]

    def __str__(self) -> str:
        return self.title


class Incident(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("处置中")
        STABILISING = "stabilising", _("趋稳观察")
        CLOSED = "closed", _("已结束")

    class Source(models.TextChoices):
        WARNING = "warning", _("预警自动启动")
        MANUAL = "manual", _("人工宣布")
        BRANCH = "branch", _("总部下发")

    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("情况说明"), blank=True)
    playbook = models.ForeignKey(Playbook, verbose_name=_("预案"), on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(_("级别"), max_length=16, choices=Severity.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    unit = models.ForeignKey("org.Department", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(
        "self", verbose_name=_("总部事件"), null=True, blank=True, on_delete=models.CASCADE, related_name="branches"
    )
    # A drill or replay: never e-mails, never calls webhooks, never replies to real customers.
    sandbox = models.BooleanField(_("演练"), default=False)
    flags = models.JSONField(_("标记"), default=list, blank=True)
    # What new complaints must match to join the incident (category subtree, inside ``unit``).
    match_category = models.ForeignKey(
        "triage.Category",
        verbose_name=_("匹配分类"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    warning_id = models.PositiveBigIntegerField(_("预警"), null=True, blank=True)
    scope_label = models.CharField(_("影响范围"), max_length=300, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cause = models.TextField(_("事件原因"), blank=True)
    measures = models.TextField(_("整改措施"), blank=True)
    responsibility = models.TextField(_("责任认定"), blank=True)
    activated_at = models.DateTimeField(_("启动时间"))
    stabilised_at = models.DateTimeField(_("趋稳时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # Start of the last hour whose count was written to the timeline (hourly task).
    hour_logged = models.DateTimeField(null=True, blank=True)
    linked_count = models.PositiveIntegerField(_("关联投诉数"), default=0)

    class Meta:
        verbose_name = _("危机事件")
        verbose_name_plural = _("危机事件")
        ordering = ["-activated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-activated_at"], name="incident_status"),
            models.Index(fields=["unit", "-activated_at"], name="incident_unit"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["warning_id", "playbook"],
                condition=Q(warning_id__isnull=False, parent__isnull=True),
                name="incident_one_per_warning",
            ),
            models.UniqueConstraint(
                fields=["parent", "unit"], condition=Q(parent__isnull=False), name="incident_one_per_branch"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class IncidentParticipant(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role_key = models.SlugField(max_length=40)
    role_label = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "user", "role_key"], name="participant_once_per_role")
        ]
        ordering = ["id"]


class IncidentTask(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", _("待起算")  # anchored on closing, which has not happened
        OPEN = "open", _("进行中")
        DONE = "done", _("已完成")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    step = models.ForeignKey(PlaybookStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(max_length=40)
    title = models.CharField(_("任务"), max_length=120)
    kind = models.CharField(max_length=20, choices=StepKind.choices, default=StepKind.GENERIC)
    anchor = models.CharField(max_length=16, choices=Anchor.choices)
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    unit = models.CharField(max_length=20, choices=TimeUnit.choices)
    owner_role = models.SlugField(max_length=40)
    checklist = models.JSONField(default=list, blank=True)  # [{"text": ..., "done": bool}]
    notify_roles = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField(_("时限"), null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(blank=True)
    # Escalation: 0 none, 1 overdue notice sent, 2 raised to the leaders. ``next_check_at`` is the
    # sweep's timer (``due_at`` then one hour later), cleared when done or fully escalated.
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]
        indexes = [
            models.Index(fields=["next_check_at"], name="incident_task_due", condition=Q(next_check_at__isnull=False))
        ]

    def __str__(self) -> str:
        return self.title


class IncidentComplaint(models.Model):
    """A complaint linked to an incident. ``received_at`` is copied from the complaint so the hourly
    series is one index range scan on (incident, received_at)."""

    class Source(models.TextChoices):
        WARNING = "warning", _("预警范围")
        MATCH = "match", _("自动匹配")
        MANUAL = "manual", _("人工关联")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()
    linked_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    replied_with = models.ForeignKey(
        "ScriptVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "complaint"], name="incident_link_once")]
        indexes = [
            models.Index(fields=["incident", "received_at"], name="incident_link_hour"),
            models.Index(fields=["complaint"], name="incident_link_complaint"),
        ]


class ScriptVersion(models.Model):
    """One version of the explanation script (统一解释口径): drafted, approved, published."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        APPROVED = "approved", _("已审批")
        PUBLISHED = "published", _("已发布")
        SUPERSEDED = "superseded", _("已被替代")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="scripts")
    number = models.PositiveIntegerField(_("版本"))
    content = models.TextField(_("口径内容"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["incident", "number"], name="script_version_once")]


class IncidentWarning(models.Model):
    """A warning that opened or joined an incident, at the highest level seen (so a warning is
    handled once per level, and the catch-up sweep knows which ones the queue lost)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="warnings")
    warning_id = models.PositiveBigIntegerField()
    level = models.PositiveSmallIntegerField()
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["warning_id", "incident"], name="incident_warning_once")]
        indexes = [models.Index(fields=["warning_id"], name="incident_warning_id")]


class IncidentEvent(models.Model):
    """The incident timeline: one row per change, hourly figure, report and escalation."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at", "id"], name="incident_timeline")]
