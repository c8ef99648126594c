from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "kuaixiang.org"
    verbose_name = "组织与人员"
