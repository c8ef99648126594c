from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kuaixiang.sla"
    verbose_name = "时限管理"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kuaixiang.rulepacks import Section, section_register
        from kuaixiang.sla.rulepack import sla_load, sla_parse

        section_register(Section("sla", "时限策略", 20, sla_parse, sla_load))

        from kuaixiang.sla import calendars
        from kuaixiang.sla.models import Calendar, CalendarDay, EscalationStep, SlaTarget

        post_save.connect(calendars.on_calendar_saved, sender=Calendar, dispatch_uid="sla_calendar_saved")
        post_delete.connect(calendars.on_calendar_saved, sender=Calendar, dispatch_uid="sla_calendar_deleted")
        post_save.connect(calendars.on_day_changed, sender=CalendarDay, dispatch_uid="sla_day_saved")
        post_delete.connect(calendars.on_day_changed, sender=CalendarDay, dispatch_uid="sla_day_deleted")
        for model in (SlaTarget, EscalationStep):
            post_save.connect(policy_touch, sender=model, dispatch_uid=f"sla_{model.__name__}_saved")
            post_delete.connect(policy_touch, sender=model, dispatch_uid=f"sla_{model.__name__}_deleted")


def policy_touch(sender, instance, **kwargs) -> None:
    """A target or ladder step changed: renew its policy's ``updated_at`` so caches reload."""
    from django.utils import timezone

    from kuaixiang.sla.models import SlaPolicy

    SlaPolicy.objects.filter(pk=instance.policy_id).update(updated_at=timezone.now())
