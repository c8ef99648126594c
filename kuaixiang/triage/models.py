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
        if self.parent_id and self.parent.level >= MAX_CATEGORY_DEPTH:
            raise ValidationError(_("分类最多五级"))

    def save(self, *args, **kwargs):
        self.clean()
        self.level = self.parent.level + 1 if self.parent_id else 1
        self.full_name = f"{self.parent.full_name} / {self.name}" if self.parent_id else self.name
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        if path != self.path:
            Category.objects.filter(pk=self.pk).update(path=path)
            self.path = path

    @property
    def is_leaf(self) -> bool:
        return not self.children.exists()
