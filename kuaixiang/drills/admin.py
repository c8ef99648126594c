from django.contrib import admin

from kuaixiang.drills.models import Drill, DrillStep


class DrillStepInline(admin.TabularInline):
    model = DrillStep
    extra = 0
    can_delete = False
    readonly_fields = (
        "order",
        "title",
        "owner_role",
        "due_at",
        "done_at",
        "done_by",
        "outcome",
        "late_seconds",
        "points",
    )
    fields = readonly_fields


@admin.register(Drill)
class DrillAdmin(admin.ModelAdmin):
    """Drills are started and run from the 演练 pages; the admin shows them and lets notes be edited."""

    list_display = ("title", "playbook", "scenario_kind", "status", "started_at", "score")
    list_filter = ("status", "scenario_kind", "playbook__code")
    readonly_fields = tuple(f.name for f in Drill._meta.fields if f.name != "notes")
    inlines = [DrillStepInline]

    def has_add_permission(self, request) -> bool:
        return False
