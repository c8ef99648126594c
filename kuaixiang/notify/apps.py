from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "kuaixiang.notify"
    verbose_name = "通知"
