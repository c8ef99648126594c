from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from kuaixiang.alerts.models import Cluster, Silence, Warning, WarningEvent, WarningRule
from kuaixiang.alerts.rulepack import _levels, _params
from kuaixiang.rulepacks import RulepackError


class WarningRuleForm(forms.ModelForm):
    """Checks ``levels`` and ``params`` with the rule pack's own validators."""

    class Meta:
        model = WarningRule
        fields = (
            "code",
            "name",
            "description",
            "version",
            "active",
            "pack",
            "sandbox",
            "category",
            "channel",
            "branch",
            "flag",
            "group_by",
            "category_level",
            "window_kind",
            "window_size",
            "measure",
            "condition",
            "params",
            "min_count",
            "levels",
            "crisis",
        )

    def clean_levels(self):
        try:
            return _levels(self.cleaned_data["levels"], "admin", "levels")
        except RulepackError as exc:
            raise ValidationError(exc.message) from None

    def clean_params(self):
        try:
            return _params(self.cleaned_data["params"], "admin", "params")
        except RulepackError as exc:
            raise ValidationError(exc.message) from None


@admin.register(WarningRule)
class WarningRuleAdmin(admin.ModelAdmin):
    """Warning rules; edit here or in the rule pack's ``alerts:`` section (docs/alerts.md)."""

    form = WarningRuleForm
    list_display = ("code", "name", "group_by", "window_kind", "measure", "condition", "crisis", "active", "sandbox")
    list_filter = ("active", "sandbox", "condition", "measure", "group_by")
    search_fields = ("code", "name")
    autocomplete_fields = ("category", "branch")


class WarningEventInline(admin.TabularInline):
    model = WarningEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "level", "actor", "payload")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Warning)
class WarningAdmin(admin.ModelAdmin):
    """Warnings are written by the rules and the lifecycle actions (web/API), not edited here."""

    list_display = ("id", "rule", "scope_label", "level", "count", "status", "raised_at", "sandbox")
    list_filter = ("status", "level", "sandbox", "rule")
    search_fields = ("scope_label",)
    inlines = [WarningEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    list_display = ("comment", "rule", "category", "channel", "scope_contains", "max_level", "starts_at", "ends_at")
    autocomplete_fields = ("rule", "category")
    readonly_fields = ("created_by",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ("id", "size", "top_terms", "first_at", "last_at", "sandbox")
    list_filter = ("sandbox",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
