"""Helpers for the duty-roster tests: extra people and shifts written through the services."""

from datetime import date, time

from django.contrib.auth import get_user_model

from kuaixiang.org.models import Staff
from kuaixiang.org.services import shift_create
from tests.personas import PASSWORD


def person(username: str, department, role: str, email: str = ""):
    user = get_user_model().objects.create_user(username, email=email, password=PASSWORD, first_name=username)
    Staff.objects.create(user=user, department=department, role=role)
    return user


def shift(org, user, department, role: str, day: date, start: str, end: str, **extra):
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return shift_create(
        department=department,
        role=role,
        user=user,
        day=day,
        start=time(h1, m1),
        end=time(h2, m2),
        actor=org.admin,
        **extra,
    )
