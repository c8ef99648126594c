from django.contrib import admin

from kuaixiang.crisis.models import (
    Incident,
    IncidentEvent,
    IncidentTask,
    Playbook,
    PlaybookRole,
    PlaybookStep,
    ScriptVersion,
)


class PlaybookRoleInline(admin.TabularInline):
    model = PlaybookRole
    extra = 0


class PlaybookStepInline(admin.StackedInline):
    model = PlaybookStep
    extra = 0
    fields = (
        ("order", "key", "kind", "scope"),
        "title",
        ("anchor", "amount", "unit", "amount_by_severity"),
        ("owner_role", "notify_roles"),
        "checklist",
    )


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    """Playbooks are versioned: change the running rules by adding a version (copy, raise ``version``)."""

    list_display = ("code", "version", "name", "active", "min_warning_level", "default_severity", "updated_at")
    list_filter = ("active",)
    search_fields = ("code", "name")
    inlines = [PlaybookRoleInline, PlaybookStepInline]


class TaskInline(admin.TabularInline):
    model = IncidentTask
    extra = 0
    fields = ("title", "owner_role", "state", "due_at", "done_at", "escalation_level")
    readonly_fields = fields
    can_delete = False


class EventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    fields = ("at", "kind", "message", "actor")
    readonly_fields = fields
    can_delete = False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-mostly: incidents change through the crisis services (web page and API)."""

    list_display = ("title", "playbook", "severity", "status", "unit", "sandbox", "activated_at", "closed_at")
    list_filter = ("status", "severity", "sandbox")
    search_fields = ("title",)
    readonly_fields = [f.name for f in Incident._meta.fields]
    inlines = [TaskInline, EventInline]

    def has_add_permission(self, request):
        return False


@admin.register(ScriptVersion)
class ScriptVersionAdmin(admin.ModelAdmin):
    list_display = ("incident", "number", "status", "drafted_at", "published_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in ScriptVersion._meta.fields]

    def has_add_permission(self, request):
        return False
