"""Complaints in the admin are read-only: every write goes through ``complaints.services``.

Lists follow the same data scope as the web UI and the API, and phone numbers are shown only
to roles that may see them.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kuaixiang.complaints.models import Attachment, Complaint, ComplaintEvent
from kuaixiang.complaints.phone import normalise_phone
from kuaixiang.complaints.present import phone_for
from kuaixiang.errors import DomainError, InvalidInput
from kuaixiang.org.roles import PHONE_VISIBLE_ROLES
from kuaixiang.org.scope import scope_for


def _role(request) -> str | None:
    return scope_for(request.user).role


class ReadOnlyAdminMixin:
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ComplaintEvent
    fields = ("at", "action", "actor", "from_status", "to_status", "payload")
    ordering = ("at", "id")
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class AttachmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Attachment
    fields = ("name", "size", "content_type", "uploaded_by", "uploaded_at")
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        return self.fields


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "status",
        "severity",
        "channel",
        "complainant_name",
        "complainant_phone",
        "received_at",
        "intake_department",
        "department",
        "assignee",
        "due_at",
    )
    list_filter = ("status", "severity", "channel")
    search_fields = ("=number", "=complainant_phone")
    search_help_text = _("Complaint number (TS…) or the complainant's phone number, exactly.")
    list_select_related = ("intake_department", "department", "assignee")
    ordering = ("-received_at", "-id")
    show_full_result_count = False
    inlines = (EventInline, AttachmentInline)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_for(request.user).complaint_filter())

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term and not term.upper().startswith("TS"):
            try:
                term = normalise_phone(term)
            except (InvalidInput, DomainError):
                pass
        elif term:
            term = term.upper()
        return super().get_search_results(request, queryset, term)

    def _masked(self, request, fields):
        if _role(request) in PHONE_VISIBLE_ROLES:
            return list(fields)
        return ["masked_phone" if f == "complainant_phone" else f for f in fields]

    def get_list_display(self, request):
        return self._masked(request, super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        return self._masked(request, super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("Contact phone"))
    def masked_phone(self, obj: Complaint) -> str:
        return phone_for("", obj.complainant_phone)  # only shown to roles that may not see the number


@admin.register(ComplaintEvent)
class ComplaintEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "complaint", "action", "actor", "from_status", "to_status")
    list_filter = ("action",)
    search_fields = ("=complaint__number",)
    list_select_related = ("complaint", "actor")
    ordering = ("-at", "-id")
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_for(request.user).complaint_filter("complaint__"))
