import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WebhookEndpoint(models.Model):
    """A group-bot webhook (WeCom, DingTalk, Feishu) that receives complaint events."""

    class Format(models.TextChoices):
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")
        FEISHU = "feishu", _("飞书群机器人")

    name = models.CharField(_("名称"), max_length=100)
    format = models.CharField(_("格式"), max_length=16, choices=Format.choices)
    url = models.URLField(_("地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=200, blank=True, help_text=_("钉钉/飞书加签密钥，可空"))
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("只推送派往该部门的工单；空表示全部"),
    )
    actions = models.JSONField(_("动作"), default=list, blank=True, help_text=_("推送的动作列表；空表示全部"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """An outbox message. Inbox messages are delivered on commit; others by the Huey worker."""

    class Channel(models.TextChoices):
        INBOX = "inbox", _("站内信")
        EMAIL = "email", _("电子邮件")
        WEBHOOK = "webhook", _("群机器人")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    webhook = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE)
    address = models.CharField(_("地址"), max_length=500, blank=True)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    link = models.CharField(max_length=300, blank=True)
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_due", condition=Q(status__in=["pending", "sending"])),
            models.Index(fields=["recipient", "channel", "-created_at"], name="inbox"),
        ]
