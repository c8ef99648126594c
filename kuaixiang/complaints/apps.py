from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "kuaixiang.complaints"
    verbose_name = "投诉工单"
