from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kuaixiang.api"
    verbose_name = "接口"
