import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.utils.translation import gettext_lazy as _

from kuaixiang.complaints.lifecycle import State


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    HOTLINE_12315 = "hotline_12315", _("12315热线")
    HOTLINE_12345 = "hotline_12345", _("12345热线")
    LETTER = "letter", _("信函")
    FAX = "fax", _("传真")
    EMAIL = "email", _("电子邮件")
    VISIT = "visit", _("来访")
    WEB = "web", _("网站")
    APP = "app", _("App")
    WECHAT = "wechat", _("微信")
    WEIBO = "weibo", _("微博")
    MEDIA = "media", _("媒体")
    GOVERNMENT = "government", _("政府转办")
    OTHER = "other", _("其他")


class Severity(models.TextChoices):
    GENERAL = "general", _("一般")
    IMPORTANT = "important", _("重要")
    MAJOR = "major", _("重大")
    URGENT = "urgent", _("紧急")


class Intent(models.TextChoices):
    """Seed 004: what the complainant is after."""

    SUGGESTION = "suggestion", _("建议型")
    GRIEVANCE = "grievance", _("问题型")
    MALICIOUS = "malicious", _("恶意")


class RequestType(models.TextChoices):
    """The 12345 hotline convention for the kind of request."""

    CONSULTATION = "consultation", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    SUGGESTION = "suggestion", _("建议")
    CRITICISM = "criticism", _("批评")


class Validity(models.TextChoices):
    VALID = "valid", _("有效")
    INVALID = "invalid", _("无效")


class ValidityReason(models.TextChoices):
    NONE = "", _("—")
    ANONYMOUS = "anonymous", _("匿名")
    NO_CONTACT = "no_contact", _("无联系方式")
    TOO_VAGUE = "too_vague", _("内容不明确")
    OUT_OF_SCOPE = "out_of_scope", _("不属受理范围")


class Flag(models.TextChoices):
    """Attention flags stored as a JSON list of these codes in ``Complaint.flags``."""

    MEDIA = "media", _("媒体")
    SAFETY = "safety", _("安全")
    LEGAL = "legal", _("法律")
    GROUP = "group", _("群体")
    GOVERNMENT = "government", _("政府关注")


SIMHASH_BANDS = 4  # 64-bit fingerprint split in 4 bands of 16 bits: distance <= 3 shares a band


STATUS_LABELS = {
    State.REGISTERED: _("已登记"),
    State.ACCEPTED: _("已受理"),
    State.REFUSED: _("不予受理"),
    State.DISPATCHED: _("已派单"),
    State.PROCESSING: _("处理中"),
    State.RETURNED: _("已回单"),
    State.REVIEWED: _("审核通过"),
    State.REPLIED: _("已答复"),
    State.REVISITED: _("已回访"),
    State.SUSPENDED: _("已挂起"),
    State.MERGED: _("已合并"),
    State.ARCHIVED: _("已归档"),
}
Status = models.TextChoices("Status", [(s.name, (s.value, STATUS_LABELS[s])) for s in State])


class Complaint(models.Model):
    """A complaint work order (投诉工单). Written only by ``complaints.services``."""

    number = models.CharField(_("工单号"), max_length=20, unique=True)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    external_id = models.CharField(_("外部编号"), max_length=100, null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=State.REGISTERED)
    severity = models.CharField(_("等级"), max_length=16, choices=Severity.choices, default=Severity.GENERAL)

    anonymous = models.BooleanField(_("匿名"), default=False)
    complainant_name = models.CharField(_("投诉人"), max_length=100, blank=True)
    complainant_phone = models.CharField(_("联系电话"), max_length=32, blank=True, db_index=True)
    received_at = models.DateTimeField(_("接收时间"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    subject = models.CharField(_("被投诉对象"), max_length=200, blank=True)
    description = models.TextField(_("投诉内容"))
    appeal = models.TextField(_("诉求"), blank=True)
    amount_claimed = models.DecimalField(_("索赔金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    extra = models.JSONField(_("扩展字段"), default=dict, blank=True)

    # Triage (grading rules, repeats and near-duplicates; see docs/triage.md)
    # db_default too: raw loaders (COPY in benchmarks, other apps' SQL) may leave these columns out.
    intent = models.CharField(
        _("意图"), max_length=16, choices=Intent.choices, default=Intent.GRIEVANCE, db_default=Intent.GRIEVANCE
    )
    request_type = models.CharField(
        _("诉求类型"),
        max_length=16,
        choices=RequestType.choices,
        default=RequestType.COMPLAINT,
        db_default=RequestType.COMPLAINT,
    )
    validity = models.CharField(
        _("有效性"), max_length=8, choices=Validity.choices, default=Validity.VALID, db_default=Validity.VALID
    )
    validity_reason = models.CharField(
        _("无效原因"), max_length=16, choices=ValidityReason.choices, default="", db_default="", blank=True
    )
    flags = models.JSONField(_("关注标记"), default=list, db_default=Value([], models.JSONField()), blank=True)
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("重复投诉（前次工单）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("疑似重复（相似工单）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    # SimHash of the description (signed 64-bit) and its four 16-bit bands, each indexed for the
    # open complaints (near-duplicates are looked up among those only): any two fingerprints
    # within Hamming distance 3 agree on at least one band.
    simhash = models.BigIntegerField(_("文本指纹"), null=True, blank=True, db_index=True)
    simhash_b0 = models.IntegerField(null=True, blank=True, editable=False)
    simhash_b1 = models.IntegerField(null=True, blank=True, editable=False)
    simhash_b2 = models.IntegerField(null=True, blank=True, editable=False)
    simhash_b3 = models.IntegerField(null=True, blank=True, editable=False)
    grading = models.JSONField(_("分级依据"), default=dict, db_default=Value({}, models.JSONField()), blank=True)

    category = models.ForeignKey(
        "triage.Category", verbose_name=_("分类"), null=True, blank=True, on_delete=models.PROTECT
    )
    intake_department = models.ForeignKey(
        "org.Department", verbose_name=_("受理部门"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("处理部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    merged_into = models.ForeignKey("self", verbose_name=_("合并至"), null=True, blank=True, on_delete=models.PROTECT)
    suspended_from = models.CharField(max_length=16, choices=Status.choices, blank=True)

    refuse_reason = models.TextField(_("不予受理原因"), blank=True)
    findings = models.TextField(_("核实情况"), blank=True)
    solution = models.TextField(_("处理方案"), blank=True)
    reply_content = models.TextField(_("答复内容"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    solved = models.BooleanField(_("问题是否解决"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重启次数"), default=0)
    reconsider_count = models.PositiveSmallIntegerField(_("复议次数"), default=0)

    # Stage deadline: stored when a stage starts, swept with ``due_at <= now`` (SLA issue).
    due_at = models.DateTimeField(_("时限"), null=True, blank=True)

    # Milestones
    created_at = models.DateTimeField(_("登记时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    revisited_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("投诉工单")
        verbose_name_plural = _("投诉工单")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="complaint_channel_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="complaint_received"),
            models.Index(fields=["department", "status", "-received_at"], name="complaint_dept_queue"),
            models.Index(fields=["intake_department", "status", "-received_at"], name="complaint_intake_queue"),
            models.Index(fields=["assignee", "status"], name="complaint_assignee"),
            models.Index(fields=["status", "-received_at"], name="complaint_status"),
            models.Index(fields=["category", "-received_at"], name="complaint_category"),
            models.Index(fields=["due_at"], name="complaint_due", condition=Q(closed_at__isnull=True)),
            models.Index(fields=["subject", "received_at"], name="complaint_subject", condition=~Q(subject="")),
            models.Index(fields=["simhash_b0"], name="complaint_open_b0", condition=Q(closed_at__isnull=True)),
            models.Index(fields=["simhash_b1"], name="complaint_open_b1", condition=Q(closed_at__isnull=True)),
            models.Index(fields=["simhash_b2"], name="complaint_open_b2", condition=Q(closed_at__isnull=True)),
            models.Index(fields=["simhash_b3"], name="complaint_open_b3", condition=Q(closed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def state(self) -> State:
        return State(self.status)


class ComplaintEvent(models.Model):
    """One row per accepted change: the timeline, the audit trail and the analytics feed."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("工单事件")
        verbose_name_plural = _("工单事件")
        indexes = [models.Index(fields=["complaint", "at", "id"], name="event_timeline")]
        ordering = ["at", "id"]


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.complaint_id}/{uuid.uuid4().hex}/{filename}"


class Attachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


class DailySequence(models.Model):
    """Per-day counter behind readable numbers (TS + yyyymmdd + 6 digits)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` header seen on a create: a repeat returns the same complaint."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
