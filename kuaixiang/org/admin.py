from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kuaixiang.org.models import Department, Shift, ShiftSwap, ShiftTemplate, Staff

INDENT = "\u3000"  # an ideographic space per level keeps the tree readable in Chinese


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("tree_name", "code", "level", "function", "active")
    list_filter = ("level", "function", "active")
    search_fields = ("name", "code")
    ordering = ("path",)
    autocomplete_fields = ("parent",)
    list_per_page = 200

    @admin.display(description=_("Name"), ordering="path")
    def tree_name(self, obj: Department) -> str:
        depth = max(obj.depth - 1, 0)
        return format_html("{}{}{}", INDENT * depth, "└ " if depth else "", obj.name)


class StaffInline(admin.StackedInline):
    model = Staff
    can_delete = False
    autocomplete_fields = ("department",)
    extra = 0
    max_num = 1


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "department", "phone")
    list_filter = ("role", "department__level")
    search_fields = ("user__username", "user__first_name", "user__last_name", "department__name")
    list_select_related = ("user", "department")
    autocomplete_fields = ("user", "department")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin with the staff record (department and role) on the same page."""

    inlines = (StaffInline,)
    list_display = ("username", "last_name", "first_name", "staff_role", "staff_department", "is_active", "is_staff")
    list_select_related = ("staff", "staff__department")
    list_filter = ("staff__role", "is_active", "is_staff", "is_superuser")

    @admin.display(description=_("Role"), ordering="staff__role")
    def staff_role(self, obj) -> str:
        staff = getattr(obj, "staff", None)
        return staff.get_role_display() if staff else "—"

    @admin.display(description=_("Department"), ordering="staff__department__path")
    def staff_department(self, obj) -> str:
        staff = getattr(obj, "staff", None)
        return staff.department.name if staff else "—"


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(admin.ModelAdmin):
    list_display = ("department", "role", "name", "kind", "start", "end", "days", "min_staff", "required")
    list_filter = ("role", "kind", "days", "required")
    search_fields = ("name", "department__name", "department__code")
    autocomplete_fields = ("department",)


class _ReadOnly(admin.ModelAdmin):
    """Shifts and swaps are written by ``kuaixiang.org.services`` (the 值班表 pages); admin only shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Shift)
class ShiftAdmin(_ReadOnly):
    list_display = ("date", "start", "end", "department", "role", "user", "kind")
    list_filter = ("role", "kind", "date")
    search_fields = ("user__username", "department__name", "department__code")
    date_hierarchy = "date"
    list_select_related = ("department", "user")


@admin.register(ShiftSwap)
class ShiftSwapAdmin(_ReadOnly):
    list_display = ("created_at", "shift", "from_user", "to_user", "approved_by", "reason")
    list_select_related = ("shift", "from_user", "to_user", "approved_by", "shift__user")
