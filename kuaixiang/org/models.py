from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kuaixiang.org.roles import Role


class Department(models.Model):
    """A node of the organisation tree: HQ → branch → department → team."""

    class Level(models.TextChoices):
        HQ = "hq", _("总部")
        BRANCH = "branch", _("分公司")
        DEPARTMENT = "department", _("部门")
        TEAM = "team", _("班组")

    class Function(models.TextChoices):
        GENERAL = "general", _("综合")
        COMPLAINT_CENTRE = "complaint_centre", _("投诉/客服中心")
        NETWORK = "network", _("网络部")
        GROUP_CUSTOMERS = "group_customers", _("集团客户部")
        BUSINESS_SUPPORT = "business_support", _("业务支撑部")
        QUALITY = "quality", _("质量管理部")
        LEGAL = "legal", _("法务部")
        PR = "pr", _("公关部")
        LEADERSHIP = "leadership", _("领导小组")

    name = models.CharField(_("名称"), max_length=100)
    code = models.SlugField(_("编码"), max_length=50, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    function = models.CharField(_("职能"), max_length=32, choices=Function.choices, default=Function.GENERAL)
    # Materialised path of ids ("/1/4/9/"): subtree queries without recursion.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        parent_path = self.parent.path if self.parent_id else "/"
        path = f"{parent_path}{self.pk}/"
        if path != self.path:
            old = self.path
            Department.objects.filter(pk=self.pk).update(path=path)
            self.path = path
            if old:
                for child in Department.objects.filter(path__startswith=old).exclude(pk=self.pk):
                    child.save()

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def unit(self) -> "Department":
        """The nearest branch or HQ above (or at) this node: the unit that owns its complaints."""
        node = self
        while node.level not in (self.Level.BRANCH, self.Level.HQ) and node.parent_id:
            node = node.parent
        return node


class Staff(models.Model):
    """A person who works complaints: a Django user with a department and a role."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    phone = models.CharField(_("电话"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username}（{self.get_role_display()}）"


# ------------------------------------------------------------------ duty roster (值班表, RULES §14)


class ShiftKind(models.TextChoices):
    DAY = "day", _("白班")
    NIGHT = "night", _("夜班")
    WEEKEND = "weekend", _("周末值班")
    HOLIDAY = "holiday", _("节假日值班")


class ShiftTemplate(models.Model):
    """A shift the department must staff (班次): role, local start/end time and the days it applies.

    ``days`` says when the template is required: every day, working days only, or non-working
    days (weekends and statutory holidays, by the working-day calendar). The gap check warns for
    each required template day whose shifts have fewer than ``min_staff`` people."""

    class Days(models.TextChoices):
        ALL = "all", _("每天")
        WORKING = "working", _("工作日")
        OFF = "off", _("周末及节假日")

    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="shift_templates"
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    name = models.CharField(_("班次"), max_length=40)
    kind = models.CharField(_("类型"), max_length=16, choices=ShiftKind.choices, default=ShiftKind.DAY)
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"), help_text=_("早于或等于开始时间表示跨午夜到次日"))
    days = models.CharField(_("适用日期"), max_length=16, choices=Days.choices, default=Days.ALL)
    min_staff = models.PositiveSmallIntegerField(_("最少人数"), default=1)
    required = models.BooleanField(_("必须有人"), default=True)

    class Meta:
        verbose_name = _("班次模板")
        verbose_name_plural = _("班次模板")
        ordering = ["department_id", "role", "start"]
        constraints = [
            models.UniqueConstraint(fields=["department", "role", "name"], name="org_shift_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.get_role_display()} {self.name}"


class Shift(models.Model):
    """One person on duty for one role in one department from ``starts_at`` to ``ends_at``.

    ``date``, ``start`` and ``end`` are Asia/Shanghai local; ``end`` at or before ``start`` means the
    shift ends on the next day. ``starts_at``/``ends_at`` are the UTC instants derived from them by
    the services (the only writers) and are what lookups use."""

    date = models.DateField(_("日期"))
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))
    starts_at = models.DateTimeField(editable=False)
    ends_at = models.DateTimeField(editable=False)
    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="shifts")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("值班人"), on_delete=models.CASCADE, related_name="duty_shifts"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=ShiftKind.choices, default=ShiftKind.DAY)
    template = models.ForeignKey(
        ShiftTemplate, verbose_name=_("班次模板"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("值班")
        verbose_name_plural = _("值班")
        ordering = ["starts_at", "role"]
        indexes = [models.Index(fields=["role", "department", "starts_at", "ends_at"], name="org_shift_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role", "starts_at"], name="org_shift_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.start:%H:%M}-{self.end:%H:%M} {self.get_role_display()} {self.user}"


class ShiftSwap(models.Model):
    """A recorded swap (换班): ``shift`` moved from ``from_user`` to ``to_user``, approved by someone."""

    shift = models.ForeignKey(Shift, verbose_name=_("值班"), on_delete=models.CASCADE, related_name="swaps")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("原值班人"), on_delete=models.CASCADE, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("替班人"), on_delete=models.CASCADE, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("批准人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("换班记录")
        verbose_name_plural = _("换班记录")
        ordering = ["-created_at"]
