from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kuaixiang.demo"
    verbose_name = "演示数据"
