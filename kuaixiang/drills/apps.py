from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "kuaixiang.drills"
    verbose_name = "应急演练"
