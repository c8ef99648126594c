from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_CATEGORY_DEPTH = 5


class Category(models.Model):
    """A node of the complaint category tree (工单分类), at most five levels deep."""

    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("编码"), max_length=64, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(_("层级"), editable=False, default=1)
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    full_name = models.CharField(_("完整路径"), max_length=500, editable=False, default="")
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("投诉分类")
        verbose_name_plural = _("投诉分类")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.full_name or self.name

    def clean(self):
        if not self.parent_id:
            return
        if self.pk and self.path and (self.parent_id == self.pk or self.parent.path.startswith(self.path)):
            raise ValidationError(_("上级分类不能是自身或其下级"))
        height = self._subtree_height() if self.pk and self.path else 0
        if self.parent.level + 1 + height > MAX_CATEGORY_DEPTH:
            raise ValidationError(_("分类最多五级"))

    def _subtree_height(self) -> int:
        """Levels below this node, from the stored (pre-move) levels of its descendants."""
        deepest = Category.objects.filter(path__startswith=self.path).aggregate(m=models.Max("level"))["m"]
        return (deepest or self.level) - self.level

    def save(self, *args, **kwargs):
        self.clean()
        before = (self.path, self.full_name, self.level)
        self.level = self.parent.level + 1 if self.parent_id else 1
        self.full_name = f"{self.parent.full_name} / {self.name}" if self.parent_id else self.name
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        if path != self.path:
            Category.objects.filter(pk=self.pk).update(path=path)
            self.path = path
        if before[0] and before != (self.path, self.full_name, self.level):
            # A rename or move: descendants carry the level, path and name of their ancestors.
            for child in self.children.all():
                child.save()

    @property
    def is_leaf(self) -> bool:
        return not self.children.exists()


class GradingRule(models.Model):
    """A grading rule (分级规则): conditions on a complaint → severity, intent, request type,
    validity and flags. Evaluated by ``kuaixiang.triage.grading`` at registration, lowest
    ``priority`` first; see docs/triage.md for the condition and outcome keys.

    ``version`` goes up by one whenever what the rule does (conditions, outcome, priority,
    stop) changes, so a complaint's stored grading names the version that matched.
    """

    code = models.CharField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    priority = models.IntegerField(_("优先级"), default=100, help_text=_("数字小的先评估"))
    when = models.JSONField(_("条件"), default=dict, blank=True)
    then = models.JSONField(_("结果"), default=dict)
    stop = models.BooleanField(_("命中后停止"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("分级规则")
        verbose_name_plural = _("分级规则")
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def as_rule_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "priority": self.priority,
            "when": self.when,
            "then": self.then,
            "stop": self.stop,
            "version": self.version,
        }

    def clean(self):
        from kuaixiang.triage.grading import GradingRuleError, parse_rule

        try:
            parse_rule(self.as_rule_dict(), self.code or "rule")
        except GradingRuleError as exc:
            raise ValidationError(str(exc)) from None

    def behaviour(self) -> tuple:
        return (self.priority, self.when, self.then, self.stop)

    def save(self, *args, **kwargs):
        if self.pk:
            before = GradingRule.objects.filter(pk=self.pk).first()
            if before is not None and before.behaviour() != self.behaviour():
                self.version = before.version + 1
        super().save(*args, **kwargs)
