from django.contrib import admin

from kuaixiang.sla.models import (
    Calendar,
    CalendarDay,
    ComplaintStage,
    DigestItem,
    EscalationStep,
    SlaPolicy,
    SlaTarget,
)


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    fields = ("date", "kind", "name")
    ordering = ("-date",)


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "use_package", "covered_years", "updated_at")
    search_fields = ("code", "name")
    readonly_fields = ("timezone", "updated_at")
    fields = ("code", "name", "timezone", "business_hours", "use_package", "covered_years", "updated_at")
    inlines = [CalendarDayInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name", "calendar")
    list_filter = ("calendar", "kind")
    search_fields = ("name",)
    date_hierarchy = "date"
    ordering = ("-date",)


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 1
    fields = ("stage", "department_function", "amount", "unit", "calendar", "warn_ratio", "holiday_roll")


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1
    fields = ("level", "trigger", "offset_amount", "offset_unit", "notify_roles")
    ordering = ("level",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("code", "version", "name", "priority", "effective_from", "effective_to", "active")
    list_filter = ("active", "code")
    search_fields = ("code", "name")
    autocomplete_fields = ("category", "branch")
    fields = (
        ("code", "version"),
        "name",
        "active",
        ("effective_from", "effective_to"),
        "priority",
        "channels",
        "severities",
        "intents",
        "difficulties",
        "flags",
        "category",
        "branch",
        "pause_on_suspend",
        "pause_reasons",
        "digest",
    )
    inlines = [SlaTargetInline, EscalationStepInline]


@admin.register(ComplaintStage)
class ComplaintStageAdmin(admin.ModelAdmin):
    list_display = ("complaint", "stage", "started_at", "due_at", "completed_at", "breached", "escalation_level")
    list_filter = ("stage", "breached", "escalation_level")
    list_select_related = ("complaint",)
    raw_id_fields = ("complaint",)
    readonly_fields = [f.name for f in ComplaintStage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DigestItem)
class DigestItemAdmin(admin.ModelAdmin):
    """Read-only: which escalations wait for (or went out in) whose digest message."""

    list_display = ("recipient", "complaint", "label", "level", "created_at", "sent_at")
    list_filter = ("level", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__username", "complaint__number")
    list_select_related = ("recipient", "complaint")
    raw_id_fields = ("recipient", "complaint", "stage")
    readonly_fields = [f.name for f in DigestItem._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False
