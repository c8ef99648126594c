"""Authority matrix, remedy requests with approval chains, 8D/CAPA and accountability.

Written only by ``remedies.services`` (and the rule-pack loader for the matrix). The authority
matrix lives here rather than in ``org`` so that the organisation app stays small (docs/remedies.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kuaixiang.org.roles import Role


class RemedyType(models.TextChoices):
    REFUND = "refund", _("退费")
    COMPENSATION = "compensation", _("补偿")
    REPLACEMENT = "replacement", _("换货")
    REPAIR = "repair", _("维修")
    GIFT = "gift", _("赠品")
    SPECIAL_WARRANTY = "special_warranty", _("特案保修")


# Money paid out: a complaint gets at most one live request of each of these kinds.
PAYOUT_TYPES = (RemedyType.REFUND, RemedyType.COMPENSATION)


class Responsibility(models.TextChoices):
    COMPANY_FAULT = "company_fault", _("公司责任")
    UNCLEAR = "unclear", _("责任不明")
    NO_FAULT = "no_fault", _("非公司责任")


class AuthorityRule(models.Model):
    """What one role may decide alone for one remedy type (授权矩阵的一格).

    ``per_complaint`` / ``per_month`` NULL means no ceiling; a role without a rule for a type
    may not decide it alone. ``department`` narrows the rule to a department or branch subtree
    (the deepest matching rule wins over the general one).
    """

    code = models.SlugField(_("编码"), max_length=80, unique=True)
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    remedy_type = models.CharField(_("补偿类型"), max_length=20, choices=RemedyType.choices)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("适用部门（含下级）"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    per_complaint = models.DecimalField(_("单笔上限（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    per_month = models.DecimalField(_("每月累计上限（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    policy_exception = models.BooleanField(_("可批准政策例外"), default=False)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("授权规则")
        verbose_name_plural = _("授权矩阵")
        ordering = ["remedy_type", "per_complaint", "role"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.get_remedy_type_display()}"


class ChainTemplate(models.Model):
    """A fixed sequential chain used for amounts above ``above`` (e.g. 5,000 元以上会签)."""

    code = models.SlugField(_("编码"), max_length=80, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    above = models.DecimalField(_("金额超过（元）"), max_digits=12, decimal_places=2)
    remedy_types = models.JSONField(_("适用类型（空为全部）"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("审批链模板")
        verbose_name_plural = _("审批链模板")
        ordering = ["-above", "code"]

    def __str__(self) -> str:
        return self.name


class ChainPlace(models.TextChoices):
    REQUESTER = "requester", _("申请人所在部门起逐级向上")
    RESPONSIBLE = "responsible", _("责任部门（工单处理部门）")
    UNIT = "unit", _("申请人所在单位（分公司/总部）")
    HQ = "hq", _("总部")


class ChainTemplateStep(models.Model):
    template = models.ForeignKey(ChainTemplate, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    place = models.CharField(_("审批人所在"), max_length=16, choices=ChainPlace.choices, default=ChainPlace.REQUESTER)

    class Meta:
        verbose_name = _("审批链步骤")
        verbose_name_plural = _("审批链步骤")
        ordering = ["template", "order"]
        constraints = [models.UniqueConstraint(fields=["template", "order"], name="remedy_chain_step_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.get_role_display()}"


class AuthoritySettings(models.Model):
    """Single row: approval step deadline and CAPA defaults (loaded from the rule pack)."""

    step_amount = models.DecimalField(_("每步审批时限"), max_digits=6, decimal_places=2, default=1)
    step_unit = models.CharField(_("时限单位"), max_length=20, default="working_days")
    escalate_after = models.DecimalField(_("超时后再升级（工作小时）"), max_digits=6, decimal_places=2, default=4)
    capa_temporary_days = models.PositiveSmallIntegerField(_("临时措施（工作日）"), default=1)
    capa_permanent_days = models.PositiveSmallIntegerField(_("永久措施（工作日）"), default=7)

    class Meta:
        verbose_name = _("审批与 8D 时限")
        verbose_name_plural = _("审批与 8D 时限")

    def __str__(self) -> str:
        return str(_("审批与 8D 时限"))


class AuthorityChange(models.Model):
    """Append-only log of every change to the matrix: who, when, before and after."""

    at = models.DateTimeField(_("时间"))
    # SET_NULL keeps the log when an account is deleted; ``actor_name`` still says who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=150, blank=True)
    source = models.CharField(_("来源"), max_length=200)
    model = models.CharField(_("对象"), max_length=40)
    object_id = models.BigIntegerField(_("对象编号"))
    action = models.CharField(_("操作"), max_length=10)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)

    class Meta:
        verbose_name = _("授权变更记录")
        verbose_name_plural = _("授权变更记录")
        ordering = ["-at", "-id"]


class RemedyState(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    RETURNED = "returned", _("已退回")
    EXECUTED = "executed", _("已执行")
    CANCELLED = "cancelled", _("已撤销")


LIVE_STATES = (RemedyState.PENDING, RemedyState.APPROVED, RemedyState.RETURNED, RemedyState.EXECUTED)


class Remedy(models.Model):
    """A refund, compensation or other remedy requested on a complaint (退费补偿申请)."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="remedies")
    type = models.CharField(_("类型"), max_length=20, choices=RemedyType.choices)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    responsibility = models.CharField(_("责任认定"), max_length=20, choices=Responsibility.choices)
    justification = models.TextField(_("理由"))
    policy_exception = models.BooleanField(_("政策例外"), default=False)
    state = models.CharField(_("状态"), max_length=12, choices=RemedyState.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "org.Department", verbose_name=_("申请部门"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey("org.Department", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+")
    self_approved = models.BooleanField(_("权限内直接批准"), default=False)
    round = models.PositiveSmallIntegerField(default=1)
    chain_name = models.CharField(_("审批链"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("申请时间"))
    decided_at = models.DateTimeField(_("审批完成时间"), null=True, blank=True)
    executed_at = models.DateTimeField(_("执行时间"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    execution_note = models.CharField(_("执行说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("补偿申请")
        verbose_name_plural = _("补偿申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A complaint is never paid twice: one live refund and one live compensation at most.
            models.UniqueConstraint(
                fields=["complaint", "type"],
                condition=Q(type__in=[t.value for t in PAYOUT_TYPES]) & Q(state__in=[s.value for s in LIVE_STATES]),
                name="remedy_one_live_payout",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="remedy_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["state", "-created_at"], name="remedy_state")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} ¥{self.amount}"


class StepState(models.TextChoices):
    WAITING = "waiting", _("待前序")
    ACTIVE = "active", _("待审批")
    APPROVED = "approved", _("同意")
    REJECTED = "rejected", _("驳回")
    RETURNED = "returned", _("退回")
    CANCELLED = "cancelled", _("已取消")


class ApprovalStep(models.Model):
    """One level of a remedy's chain; any one of its approvers (or their delegate) decides it."""

    remedy = models.ForeignKey(Remedy, on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveSmallIntegerField(default=1)
    order = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=16, choices=Role.choices)
    place = models.ForeignKey("org.Department", on_delete=models.PROTECT, related_name="+")
    approvers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="remedy_steps")
    state = models.CharField(max_length=10, choices=StepState.choices, default=StepState.WAITING)
    started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("审批步骤")
        verbose_name_plural = _("审批步骤")
        ordering = ["remedy", "round", "order"]
        constraints = [models.UniqueConstraint(fields=["remedy", "round", "order"], name="remedy_step_order")]
        indexes = [
            models.Index(fields=["next_check_at"], name="remedy_step_check", condition=Q(next_check_at__isnull=False))
        ]


class RemedyEvent(models.Model):
    """Timeline of a remedy: every request, decision, escalation and execution."""

    remedy = models.ForeignKey(Remedy, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    comment = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class AuthorityLedger(models.Model):
    """What one person decided alone in one month for one type: the monthly limit's counter."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    remedy_type = models.CharField(max_length=20, choices=RemedyType.choices)
    used = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "month", "remedy_type"], name="remedy_ledger_user_month_type")
        ]


class Delegation(models.Model):
    """While ``principal`` is away (``starts_on``..``ends_on``, Shanghai dates) ``delegate`` decides for them."""

    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("委托人"), on_delete=models.CASCADE, related_name="+"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("代理人"), on_delete=models.CASCADE, related_name="+"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("审批委托")
        verbose_name_plural = _("审批委托")
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="delegation_dates")]


# ---------------------------------------------------------------- 8D / CAPA


class EightDState(models.TextChoices):
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已关闭")


class EightD(models.Model):
    """An 8D report (8D 报告) answering one or more product-quality complaints."""

    number = models.CharField(_("编号"), max_length=20, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    product = models.CharField(_("产品/批次"), max_length=200, blank=True)
    complaints = models.ManyToManyField("complaints.Complaint", verbose_name=_("关联工单"), related_name="eightds")
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("D1 小组成员"), related_name="+", blank=True)
    champion = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("组长"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey("org.Department", verbose_name=_("责任部门"), on_delete=models.PROTECT)
    d2_problem = models.TextField(_("D2 问题描述"), blank=True)
    d3_containment = models.TextField(_("D3 临时围堵措施"), blank=True)
    stock_checked = models.PositiveIntegerField(_("D3 排查库存数量"), default=0)
    stock_isolated = models.PositiveIntegerField(_("D3 隔离不良数量"), default=0)
    d4_root_cause = models.TextField(_("D4 根本原因"), blank=True)
    d5_corrective = models.TextField(_("D5 永久纠正措施"), blank=True)
    d6_verification = models.TextField(_("D6 实施与效果验证"), blank=True)
    d7_prevention = models.TextField(_("D7 预防再发与标准化"), blank=True)
    d8_closure = models.TextField(_("D8 总结与表彰、客户满意度跟踪"), blank=True)
    state = models.CharField(_("状态"), max_length=8, choices=EightDState.choices, default=EightDState.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("8D 报告")
        verbose_name_plural = _("8D 报告")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CapaKind(models.TextChoices):
    TEMPORARY = "temporary", _("临时措施")
    CORRECTIVE = "corrective", _("纠正措施")
    PREVENTIVE = "preventive", _("预防措施")


class CapaAction(models.Model):
    eightd = models.ForeignKey(EightD, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("类型"), max_length=12, choices=CapaKind.choices)
    description = models.TextField(_("措施"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("负责人"), on_delete=models.PROTECT)
    due_at = models.DateTimeField(_("完成时限"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    verified = models.BooleanField(_("效果已验证"), default=False)
    verification = models.TextField(_("验证说明"), blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("纠正预防措施")
        verbose_name_plural = _("纠正预防措施")
        ordering = ["eightd", "due_at", "id"]


# ---------------------------------------------------------------- accountability


class AccountabilityState(models.TextChoices):
    DRAFT = "draft", _("待审批")
    APPROVED = "approved", _("已批准")


class Accountability(models.Model):
    """A finding against a person for a complaint (责任追究), with its penalty once approved."""

    complaint = models.ForeignKey(
        "complaints.Complaint", verbose_name=_("工单"), null=True, blank=True, on_delete=models.PROTECT
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey("org.Department", verbose_name=_("责任部门"), on_delete=models.PROTECT)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("直接主管"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    finding = models.TextField(_("认定事实"))
    fine = models.DecimalField(_("罚款（元）"), max_digits=10, decimal_places=2, default=0)
    zero_performance = models.BooleanField(_("当月绩效清零（本人及主管）"), default=False)
    month = models.DateField(_("考核月份"))
    state = models.CharField(
        _("状态"), max_length=10, choices=AccountabilityState.choices, default=AccountabilityState.DRAFT
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("批准人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("责任追究")
        verbose_name_plural = _("责任追究")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(fine__gte=0), name="accountability_fine_not_negative")]
