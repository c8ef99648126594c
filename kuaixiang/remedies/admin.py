"""Admin for the authority matrix (every change logged with who and before/after) and the records."""

from django.contrib import admin

from kuaixiang.remedies.matrix import matrix_row_delete, matrix_row_save
from kuaixiang.remedies.models import (
    Accountability,
    AuthorityChange,
    AuthorityRule,
    AuthoritySettings,
    CapaAction,
    ChainTemplate,
    ChainTemplateStep,
    Delegation,
    EightD,
    Remedy,
)


class AuditedAdmin(admin.ModelAdmin):
    """Writes go through ``matrix_row_save`` / ``matrix_row_delete`` so each one lands in the change log."""

    def save_model(self, request, obj, form, change):
        matrix_row_save(actor=request.user, instance=obj, source="admin")

    def delete_model(self, request, obj):
        matrix_row_delete(actor=request.user, instance=obj, source="admin")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            matrix_row_delete(actor=request.user, instance=obj, source="admin")

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            matrix_row_delete(actor=request.user, instance=obj, source="admin")
        for obj in instances:
            matrix_row_save(actor=request.user, instance=obj, source="admin")
        formset.save_m2m()


@admin.register(AuthorityRule)
class AuthorityRuleAdmin(AuditedAdmin):
    list_display = ("code", "role", "remedy_type", "department", "per_complaint", "per_month", "policy_exception")
    list_filter = ("remedy_type", "role", "active")
    search_fields = ("code",)
    autocomplete_fields = ("department",)


class ChainTemplateStepInline(admin.TabularInline):
    model = ChainTemplateStep
    extra = 1
    ordering = ("order",)


@admin.register(ChainTemplate)
class ChainTemplateAdmin(AuditedAdmin):
    list_display = ("code", "name", "above", "active")
    inlines = [ChainTemplateStepInline]


@admin.register(AuthoritySettings)
class AuthoritySettingsAdmin(AuditedAdmin):
    list_display = ("__str__", "step_amount", "step_unit", "capa_temporary_days", "capa_permanent_days")


@admin.register(AuthorityChange)
class AuthorityChangeAdmin(admin.ModelAdmin):
    """Read-only: the change log is append-only."""

    list_display = ("at", "actor_name", "source", "model", "object_id", "action")
    list_filter = ("model", "action")
    readonly_fields = ("at", "actor", "actor_name", "source", "model", "object_id", "action", "before", "after")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Remedy)
class RemedyAdmin(admin.ModelAdmin):
    """Remedies change only through their workflow (web or API); the admin shows them."""

    list_display = ("id", "complaint", "type", "amount", "responsibility", "state", "requested_by", "created_at")
    list_filter = ("state", "type", "responsibility")
    search_fields = ("complaint__number",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("principal", "delegate", "starts_on", "ends_on", "note")
    raw_id_fields = ("principal", "delegate")


class CapaActionInline(admin.TabularInline):
    model = CapaAction
    extra = 0
    raw_id_fields = ("owner",)


@admin.register(EightD)
class EightDAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "state", "champion", "created_at")
    search_fields = ("number", "title")
    raw_id_fields = ("complaints", "team", "champion", "created_by")
    inlines = [CapaActionInline]


@admin.register(Accountability)
class AccountabilityAdmin(admin.ModelAdmin):
    list_display = ("person", "department", "fine", "zero_performance", "month", "state", "approved_by")
    list_filter = ("state", "zero_performance")
    raw_id_fields = ("complaint", "person", "manager", "created_by", "approved_by")
