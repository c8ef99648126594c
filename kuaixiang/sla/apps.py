from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kuaixiang.sla"
    verbose_name = "时限管理"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kuaixiang.sla import calendars
        from kuaixiang.sla.models import Calendar, CalendarDay

        post_save.connect(calendars.on_calendar_saved, sender=Calendar, dispatch_uid="sla_calendar_saved")
        post_delete.connect(calendars.on_calendar_saved, sender=Calendar, dispatch_uid="sla_calendar_deleted")
        post_save.connect(calendars.on_day_changed, sender=CalendarDay, dispatch_uid="sla_day_saved")
        post_delete.connect(calendars.on_day_changed, sender=CalendarDay, dispatch_uid="sla_day_deleted")
