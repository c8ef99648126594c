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
