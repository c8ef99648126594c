"""Forms of the web UI. They collect and re-display raw input; the rules stay in the domain:
registration is validated by ``complaints.intake.parse_complaint_input`` and action payloads
by ``complaints.actions.parse_payload`` (through ``complaint_transition``)."""

import uuid
from datetime import date, datetime, time, timedelta

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kuaixiang import clock
from kuaixiang.complaints.lifecycle import OPEN
from kuaixiang.complaints.models import (
    Channel,
    Flag,
    Intent,
    RequestType,
    Severity,
    Status,
    Validity,
    ValidityReason,
)
from kuaixiang.complaints.selectors import ComplaintFilters
from kuaixiang.org.models import Department
from kuaixiang.triage.models import Category

BLANK = [("", "—")]
EXTRA_ROWS = 3
# While the agent types the description or the phone, htmx asks for similar open complaints
# and category suggestions (kuaixiang.triage.views.registration_assist) and shows them in #kx-assist.
ASSIST = {
    "hx-get": reverse_lazy("web:complaint_assist"),
    "hx-trigger": "input changed delay:400ms",
    "hx-target": "#kx-assist",
    "hx-include": "#id_description, #id_complainant_phone, #id_category_id",
    "hx-sync": "#complaint-form:replace",
}


def category_choices() -> list[tuple]:
    """Active categories in tree order, each shown with its full path (网络质量 / 移动网络 / 信号弱)."""
    return [(c["id"], c["full_name"]) for c in Category.objects.filter(active=True).values("id", "full_name")]


def department_choices() -> list[tuple]:
    """Active departments and teams, grouped by their branch (or HQ)."""
    departments = list(Department.objects.filter(active=True).values("id", "name", "level", "path", "parent_id"))
    by_id = {d["id"]: d for d in departments}
    groups: dict[str, list] = {}
    for d in departments:
        if d["level"] in (Department.Level.HQ, Department.Level.BRANCH):
            continue
        unit = d
        while unit["level"] not in (Department.Level.HQ, Department.Level.BRANCH) and unit["parent_id"] in by_id:
            unit = by_id[unit["parent_id"]]
        groups.setdefault(unit["name"], []).append((d["id"], d["name"]))
    return list(groups.items())


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; ``attachment_add`` checks each (size, type) when it stores it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


def _local_input_value(at: datetime) -> str:
    return at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%dT%H:%M") if at else ""


class ComplaintForm(forms.Form):
    """All fields optional at the form level: ``parse_complaint_input`` decides what is missing."""

    channel = forms.CharField(label=_("Channel"), required=False, widget=forms.Select)
    external_id = forms.CharField(
        label=_("External id"), required=False, help_text=_("Number in the source system, e.g. the 12345 ticket")
    )
    anonymous = forms.BooleanField(label=_("Anonymous complaint"), required=False)
    complainant_name = forms.CharField(label=_("Complainant name"), required=False)
    complainant_phone = forms.CharField(
        label=_("Contact phone"),
        required=False,
        help_text=_("Mainland mobile, or landline with area code (010-12345678)"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", **ASSIST}),
    )
    received_at = forms.CharField(
        label=_("Received at"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=_("Place"), required=False)
    subject = forms.CharField(
        label=_("Complained about"), required=False, help_text=_("The person, department or product")
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5, **ASSIST})
    )
    appeal = forms.CharField(
        label=_("Appeal"),
        required=False,
        help_text=_("What the complainant asks for"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    amount_claimed = forms.CharField(
        label=_("Amount claimed (yuan)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    category_id = forms.CharField(label=_("Category"), required=False, widget=forms.Select)
    severity = forms.CharField(label=_("Severity"), required=False, widget=forms.Select)
    attachments = MultipleFileField(
        label=_("Attachments"), required=False, help_text=_("Photos, recordings, invoices… several files allowed")
    )
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    required_fields = ("channel", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].widget.choices = BLANK + list(Channel.choices)
        self.fields["category_id"].widget.choices = BLANK + category_choices()
        self.fields["severity"].widget.choices = list(Severity.choices)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            self.initial.setdefault("received_at", _local_input_value(clock.now()))
            self.initial.setdefault("severity", Severity.GENERAL)
        for name in self.required_fields:
            self.fields[name].kx_required = True
        self.extra_rows = self._extra_rows()
        self.extra_errors: list[str] = []

    def _extra_rows(self) -> list[tuple[str, str]]:
        if not self.is_bound:
            return [("", "")] * EXTRA_ROWS
        keys = self.data.getlist("extra_key")
        values = self.data.getlist("extra_value")
        rows = [(k.strip(), v.strip()) for k, v in zip(keys, values, strict=False)]
        rows = [r for r in rows if r[0] or r[1]]
        return rows + [("", "")] * max(1, EXTRA_ROWS - len(rows))

    def raw_input(self) -> dict:
        """The submitted fields as the intake expects them (blank fields left out)."""
        data = {}
        for name, value in self.cleaned_data.items():
            if name in ("anonymous", "idempotency_key"):
                continue
            if isinstance(value, str) and value.strip():
                data[name] = value
        data["anonymous"] = bool(self.cleaned_data.get("anonymous"))
        extra = {}
        for key, value in self.extra_rows:
            if value and not key:
                self.extra_errors.append(_("Each extra value needs a name."))
            elif key:
                extra[key] = value
        data["extra"] = extra
        return data

    def submitted_key(self) -> str | None:
        """The form's one-time key: a double submit returns the complaint made the first time."""
        return (self.cleaned_data.get("idempotency_key") or "").strip()[:200] or None

    # Intake error fields that belong to another form field than their name says.
    _ERROR_FIELD = {"phone_required": "complainant_phone", "description_required": "description"}

    def add_domain_errors(self, fields: list[dict]) -> None:
        """Attach the intake's per-field errors (Chinese messages) to the form fields."""
        for error in fields:
            name = self._ERROR_FIELD.get(error.get("code"), error.get("field", "")).split(".")[0]
            if name == "extra":
                self.extra_errors.append(error["message"])
            elif name in self.fields:
                self.add_error(name, error["message"])
            else:
                self.add_error(None, error["message"])


class RegradeForm(forms.Form):
    """The agent's grading override; ``complaint_regrade`` validates it (only changed fields are written)."""

    severity = forms.ChoiceField(label=_("等级"), choices=Severity.choices)
    intent = forms.ChoiceField(label=_("意图"), choices=Intent.choices)
    request_type = forms.ChoiceField(label=_("诉求类型"), choices=RequestType.choices)
    validity = forms.ChoiceField(label=_("有效性"), choices=Validity.choices)
    validity_reason = forms.ChoiceField(label=_("无效原因"), choices=ValidityReason.choices, required=False)
    flags = forms.MultipleChoiceField(
        label=_("关注标记"), choices=Flag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label=_("调整原因"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    @classmethod
    def for_complaint(cls, c: dict) -> "RegradeForm":
        return cls(
            initial={k: c[k] for k in ("severity", "intent", "request_type", "validity", "validity_reason", "flags")}
        )

    def payload(self) -> dict:
        """The raw submitted values (the service decides what is valid)."""
        data = {k: self.data.get(k) for k in ("severity", "intent", "request_type", "validity", "reason")}
        data["validity_reason"] = self.data.get("validity_reason", "")
        data["flags"] = self.data.getlist("flags")
        return {k: v for k, v in data.items() if v is not None}


# ---------------------------------------------------------------- lifecycle actions


def _text(label, rows=3, required=True):
    field = forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": rows}))
    field.kx_required = required
    return field


def _department(label):
    field = forms.CharField(label=label, required=False, widget=forms.Select)
    field.kx_required = True
    field.kx_departments = True
    return field


REASON_LABELS = {
    "refuse": _("Reason (the complainant is told)"),
    "transfer": _("Reason for the transfer"),
    "send_back": _("Reason for sending back"),
    "review_reject": _("Reason for rejecting"),
    "reopen": _("Reason for reopening"),
    "reconsider": _("Reason for reconsideration"),
    "suspend": _("Reason (e.g. waiting for the customer or a test)"),
}


def _action_fields(action: str) -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    if action in ("dispatch", "transfer"):
        fields["department_id"] = _department(_("To department"))
    if action in REASON_LABELS:
        fields["reason"] = _text(REASON_LABELS[action])
    if action == "suspend":
        fields["pause_reason"] = forms.ChoiceField(
            label=_("挂起原因类别（决定哪些时限暂停计时）"),
            required=False,
            initial="other",
            choices=[
                ("customer", _("等待客户")),
                ("test", _("等待检测")),
                ("appraisal", _("等待鉴定")),
                ("other", _("其他")),
            ],
        )
    if action == "return":
        fields["findings"] = _text(_("Findings"), rows=4)
        fields["solution"] = _text(_("Proposed solution"), rows=3)
    if action == "reply":
        fields["content"] = _text(_("Reply to the complainant"), rows=4)
    if action == "revisit":
        satisfaction = forms.CharField(
            label=_("Satisfaction (1 very dissatisfied – 5 very satisfied)"),
            required=False,
            widget=forms.RadioSelect(choices=[(str(i), str(i)) for i in range(1, 6)]),
        )
        solved = forms.CharField(
            label=_("Was the problem solved?"),
            required=False,
            widget=forms.RadioSelect(choices=[("true", _("Yes, solved")), ("false", _("No, not solved"))]),
        )
        satisfaction.kx_required = solved.kx_required = True
        fields.update(satisfaction=satisfaction, solved=solved, comment=_text(_("Comment"), rows=2, required=False))
    if action == "merge":
        into = forms.CharField(
            label=_("Merge into"),
            required=False,
            help_text=_("Number (TS…) or id of the complaint that is kept"),
        )
        into.kx_required = True
        fields["into"] = into
    return fields


class ActionForm(forms.Form):
    """The payload fields of one lifecycle action; ids are prefixed so many forms share a page."""

    # Payload fields whose form field has another name.
    _ERROR_FIELD = {"into_id": "into"}

    def __init__(self, action: str, *args, departments: list | None = None, **kwargs):
        kwargs.setdefault("auto_id", f"id_{action}_%s")
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields.update(_action_fields(action))
        for field in self.fields.values():
            if getattr(field, "kx_departments", False):
                field.widget.choices = BLANK + (departments or [])

    @property
    def needs_input(self) -> bool:
        return bool(self.fields)

    def payload(self) -> dict:
        """Non-blank submitted values; ``complaint_transition`` validates them."""
        return {k: v.strip() for k, v in self.cleaned_data.items() if isinstance(v, str) and v.strip()}

    def add_domain_errors(self, fields: list[dict]) -> None:
        for error in fields:
            name = error.get("field", "").split(".")[0]
            name = self._ERROR_FIELD.get(name, name)
            self.add_error(name if name in self.fields else None, error["message"])


# ---------------------------------------------------------------- queue filters

OVERDUE_CHOICES = [("", _("Any")), ("1", _("Overdue")), ("0", _("Not overdue"))]


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    department = forms.TypedChoiceField(label=_("Handling department"), required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=BLANK + list(Channel.choices))
    severity = forms.ChoiceField(label=_("Severity"), required=False, choices=BLANK + list(Severity.choices))
    received_from = forms.DateField(label=_("Received from"), required=False, widget=forms.DateInput({"type": "date"}))
    received_to = forms.DateField(label=_("Received to"), required=False, widget=forms.DateInput({"type": "date"}))
    overdue = forms.ChoiceField(label=_("Overdue"), required=False, choices=OVERDUE_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = BLANK + [("open", _("All open"))] + list(Status.choices)
        self.fields["category"].choices = BLANK + category_choices()
        self.fields["department"].choices = BLANK + department_choices()

    def filters(self) -> ComplaintFilters:
        """The valid part of the submitted filters (an invalid field is ignored and flagged)."""
        self.is_valid()
        data = self.cleaned_data
        status = data.get("status")
        start, end = data.get("received_from"), data.get("received_to")
        if end is not None and end >= date.max:
            end = None  # "up to the end of time" filters nothing (and has no next day)
        return ComplaintFilters(
            status=[s.value for s in OPEN] if status == "open" else ([status] if status else []),
            category_id=data.get("category"),
            department_id=data.get("department"),
            channel=data.get("channel") or None,
            severity=data.get("severity") or None,
            received_from=datetime.combine(start, time.min, tzinfo=clock.SHANGHAI) if start else None,
            received_to=datetime.combine(end, time.min, tzinfo=clock.SHANGHAI) + timedelta(days=1) if end else None,
            q=(data.get("q") or "").strip() or None,
            overdue={"1": True, "0": False}.get(data.get("overdue") or ""),
        )
