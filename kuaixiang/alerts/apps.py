from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "kuaixiang.alerts"
    verbose_name = "监控预警"
