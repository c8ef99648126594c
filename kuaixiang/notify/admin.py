from django import forms
from django.contrib import admin

from kuaixiang.notify.models import Notification, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=WebhookEndpoint._meta.get_field("url").verbose_name, max_length=500, assume_scheme="https"
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "format", "url", "secret", "department", "actions", "active")
        widgets = {"secret": forms.PasswordInput(render_value=True)}


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "format", "department", "active")
    list_filter = ("format", "active")
    search_fields = ("name", "url")
    list_select_related = ("department",)
    autocomplete_fields = ("department",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: the worker and ``notify.services`` are its only writers."""

    list_display = ("created_at", "channel", "status", "attempts", "recipient", "address", "subject", "sent_at")
    list_filter = ("status", "channel", "attempts")
    search_fields = ("subject", "address", "complaint__number")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
