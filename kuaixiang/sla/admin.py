from django.contrib import admin

from kuaixiang.sla.models import Calendar, CalendarDay


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
