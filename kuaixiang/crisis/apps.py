from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "kuaixiang.crisis"
    verbose_name = "危机处置"
