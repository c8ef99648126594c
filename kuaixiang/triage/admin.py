from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kuaixiang.triage.models import Category, GradingRule

INDENT = "\u3000"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The category tree (up to five levels); deactivate a node instead of deleting it."""

    list_display = ("tree_name", "code", "level", "full_name", "active")
    list_filter = ("level", "active")
    search_fields = ("name", "code", "full_name")
    ordering = ("path",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("level", "full_name")
    list_per_page = 200

    @admin.display(description=_("Name"), ordering="path")
    def tree_name(self, obj: Category) -> str:
        depth = obj.level - 1
        return format_html("{}{}{}", INDENT * depth, "└ " if depth else "", obj.name)


@admin.register(GradingRule)
class GradingRuleAdmin(admin.ModelAdmin):
    """Grading rules (分级规则): conditions (``when``) and outcome (``then``) as JSON, checked by the
    grading kernel before saving; see docs/triage.md. Deactivate a rule rather than deleting it."""

    list_display = ("code", "name", "priority", "active", "version", "outcome", "updated_at")
    list_filter = ("active",)
    search_fields = ("code", "name", "description")
    ordering = ("priority", "code")
    readonly_fields = ("version", "updated_at")
    fields = ("code", "name", "description", "priority", "when", "then", "stop", "active", "version", "updated_at")

    @admin.display(description=_("结果"))
    def outcome(self, obj: GradingRule) -> str:
        return ", ".join(f"{key}={value}" for key, value in obj.then.items())
