from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kuaixiang.web"
    verbose_name = "网页"
