"""Duty roster forms: parse and type-check input only; the services decide what is allowed."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kuaixiang.org.models import ShiftKind, ShiftTemplate
from kuaixiang.org.roles import Role

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _people(department=None):
    """Active staff; with ``department``, those in its unit's subtree (who may be rostered there)."""
    queryset = get_user_model().objects.filter(is_active=True, staff__isnull=False).order_by("username")
    if department is not None:
        queryset = queryset.filter(staff__department__path__startswith=department.unit().path)
    return queryset


class DepartmentForm(forms.Form):
    """A form whose person fields list the staff of the department's unit."""

    person_fields: tuple[str, ...] = ()

    def __init__(self, *args, department, **kwargs):
        super().__init__(*args, **kwargs)
        people = _people(department)
        for name in self.person_fields:
            self.fields[name].queryset = people


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name() or obj.username
        return f"{name}（{obj.username}）"


class PeopleChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name() or obj.username
        return f"{name}（{obj.username}）"


class TemplateChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.get_role_display()} · {obj.name}（{obj.start:%H:%M}–{obj.end:%H:%M}，{obj.get_days_display()}）"


class ShiftForm(DepartmentForm):
    person_fields = ("user",)

    day = forms.DateField(label=_("日期"), widget=_DATE)
    start = forms.TimeField(label=_("开始"), widget=_TIME)
    end = forms.TimeField(label=_("结束"), widget=_TIME, help_text=_("早于或等于开始表示跨午夜"))
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    kind = forms.ChoiceField(label=_("类型"), choices=ShiftKind.choices)
    user = PersonChoice(label=_("值班人"), queryset=_people())
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class ShiftEditForm(DepartmentForm):
    person_fields = ("user",)

    start = forms.TimeField(label=_("开始"), widget=_TIME)
    end = forms.TimeField(label=_("结束"), widget=_TIME)
    user = PersonChoice(label=_("值班人"), queryset=_people())
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class SwapForm(DepartmentForm):
    person_fields = ("to_user", "approved_by")

    to_user = PersonChoice(label=_("替班人"), queryset=_people())
    approved_by = PersonChoice(label=_("批准人"), queryset=_people())
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = ShiftTemplate
        fields = ["role", "name", "kind", "start", "end", "days", "min_staff", "required"]
        widgets = {"start": _TIME, "end": _TIME}


class RotationForm(DepartmentForm):
    person_fields = ("people",)

    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    templates = TemplateChoice(
        label=_("班次模板"),
        queryset=ShiftTemplate.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    people = PeopleChoice(
        label=_("轮值人员（按顺序轮换）"), queryset=_people(), widget=forms.SelectMultiple(attrs={"size": 8})
    )
    first = forms.DateField(label=_("开始日期"), widget=_DATE)
    last = forms.DateField(label=_("结束日期"), widget=_DATE)
    block_days = forms.IntegerField(label=_("每人连续值班天数"), min_value=1, max_value=31, initial=1)
    replace = forms.BooleanField(label=_("覆盖这些日期已有的排班"), required=False)

    def __init__(self, *args, department, **kwargs):
        super().__init__(*args, department=department, **kwargs)
        self.fields["templates"].queryset = ShiftTemplate.objects.filter(department=department)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))
