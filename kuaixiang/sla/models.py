import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kuaixiang.sla.worktime import SHANGHAI, parse_week_hours

# The default calendar `cn`: Mon–Fri 09:00–12:00 and 13:30–18:00 (docs/calendar.md).
DEFAULT_HOURS = {day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def default_hours() -> dict:
    return {day: [list(pair) for pair in pairs] for day, pairs in DEFAULT_HOURS.items()}


def new_revision() -> str:
    return uuid.uuid4().hex


class Calendar(models.Model):
    """A business calendar (工作日历): weekly business hours plus day data.

    Day data comes from the `chinesecalendar` package (when ``use_package``) for the years it
    knows, and from :class:`CalendarDay` rows, which win over the package. A year is covered
    when the package knows it or it is listed in ``covered_years``.
    """

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    timezone = models.CharField(
        _("时区"), max_length=40, default=SHANGHAI, editable=False, help_text=_("固定为 Asia/Shanghai")
    )
    business_hours = models.JSONField(
        _("营业时间"),
        default=default_hours,
        help_text=_(
            '按星期填写时段，例如 {"mon": [["08:30", "12:00"], ["13:30", "17:30"]], ...}；'
            '未列出的星期为休息日；可选 "makeup" 指定调休上班日的时段（默认同周一）。'
        ),
    )
    use_package = models.BooleanField(
        _("使用 chinesecalendar 法定节假日数据"), default=True, help_text=_("关闭后只使用下方的节假日/调休表")
    )
    covered_years = models.JSONField(
        _("自行维护的年份"),
        default=list,
        blank=True,
        help_text=_("节假日与调休已在本表完整录入的年份，例如 [2027]；软件包未覆盖的年份须在此列出才能计算"),
    )
    revision = models.CharField(max_length=32, default=new_revision, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        try:
            parse_week_hours(self.business_hours)
        except ValueError as exc:
            raise ValidationError({"business_hours": str(exc)}) from exc
        years = self.covered_years
        if not isinstance(years, list) or not all(isinstance(y, int) and 1900 < y < 2200 for y in years):
            raise ValidationError({"covered_years": _("应为年份列表，例如 [2027, 2028]")})

    def save(self, *args, **kwargs):
        self.revision = new_revision()
        super().save(*args, **kwargs)

    def touch(self) -> None:
        """Mark the calendar changed so every process rebuilds its cached kernel value."""
        self.revision = new_revision()
        Calendar.objects.filter(pk=self.pk).update(revision=self.revision)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("节假日")
    WORKDAY = "workday", _("调休上班")
    CLOSURE = "closure", _("停业")


class CalendarDay(models.Model):
    """An override of one date (节假日/调休上班/停业); it wins over the package's data."""

    calendar = models.ForeignKey(Calendar, verbose_name=_("工作日历"), on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=100, help_text=_("例如 春节、国庆节、系统迁移停业"))

    class Meta:
        verbose_name = _("节假日/调休")
        verbose_name_plural = _("节假日/调休")
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="sla_calendarday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"
