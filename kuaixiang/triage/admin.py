from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kuaixiang.triage.models import Category

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
