from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "kuaixiang.alerts"
    verbose_name = "监控预警"

    def ready(self) -> None:
        from kuaixiang.alerts import counting
        from kuaixiang.alerts.rulepack import alerts_load, alerts_parse
        from kuaixiang.complaints.signals import complaints_registered
        from kuaixiang.rulepacks import Section, section_register
        from kuaixiang.sla.signals import stage_escalated

        section_register(Section("alerts", "预警规则", 40, alerts_parse, alerts_load))
        complaints_registered.connect(counting.on_registered, dispatch_uid="alerts_on_registered")
        stage_escalated.connect(counting.on_escalated, dispatch_uid="alerts_on_escalated")
