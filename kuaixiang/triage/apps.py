from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "kuaixiang.triage"
    verbose_name = "分类分级"
