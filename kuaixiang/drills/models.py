from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Drill(models.Model):
    """One exercise of a playbook (演练) in the sandbox organisation.

    Times named ``drill_*`` are on the drill clock (see ``kuaixiang.drills.scoring.drill_clock``):
    ``origin`` is the incident's activation; the clock runs ``speed`` times real time from
    ``started_at`` plus ``skipped`` seconds the participants jumped ahead."""

    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        FINISHED = "finished", _("已结束")

    class Scenario(models.TextChoices):
        SYNTHETIC = "synthetic", _("合成突增")
        RECORDED = "recorded", _("历史回放")

    class Activation(models.TextChoices):
        WARNING = "warning", _("预警自动启动")
        MANUAL = "manual", _("演练人工启动")

    title = models.CharField(_("标题"), max_length=200)
    playbook = models.ForeignKey("crisis.Playbook", verbose_name=_("预案"), on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(
        "crisis.Incident",
        verbose_name=_("演练事件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scenario_kind = models.CharField(_("场景"), max_length=16, choices=Scenario.choices)
    scenario = models.JSONField(_("场景参数"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    activation = models.CharField(_("启动方式"), max_length=16, choices=Activation.choices)
    speed = models.FloatField(_("时钟倍速"), default=1.0)
    skipped = models.FloatField(_("快进秒数"), default=0.0)
    origin = models.DateTimeField(_("演练起点（事件启动）"))
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    drill_finished_at = models.DateTimeField(_("演练时钟结束时间"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows = models.PositiveIntegerField(_("回放行数"), default=0)
    registered = models.PositiveIntegerField(_("登记投诉数"), default=0)
    skipped_rows = models.PositiveIntegerField(_("跳过行数"), default=0)
    warnings = models.JSONField(_("预警"), default=list, blank=True)
    replay_seconds = models.FloatField(_("回放耗时（秒）"), default=0.0)
    score = models.FloatField(_("得分"), null=True, blank=True)
    notes = models.TextField(_("评估意见"), blank=True)

    class Meta:
        verbose_name = _("演练")
        verbose_name_plural = _("演练")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # The sandbox is shared: one running drill at a time.
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="running"), name="drills_one_running"),
        ]

    def __str__(self) -> str:
        return self.title


class DrillStep(models.Model):
    """One playbook step of a drill with its score, written when the drill finishes (drill time)."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(max_length=40)
    title = models.CharField(_("步骤"), max_length=120)
    owner_role = models.CharField(_("负责角色"), max_length=60)
    started_at = models.DateTimeField(_("起算"), null=True, blank=True)
    due_at = models.DateTimeField(_("时限"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("结果"), max_length=10)
    late_seconds = models.FloatField(_("超时秒数"), null=True, blank=True)
    points = models.FloatField(_("得分"), null=True, blank=True)

    class Meta:
        verbose_name = _("演练步骤")
        verbose_name_plural = _("演练步骤")
        ordering = ["drill_id", "order", "pk"]
