from datetime import timedelta

from django.contrib.auth import authenticate

from kuaixiang import clock
from kuaixiang.api.models import ApiToken, hash_token
from kuaixiang.errors import DomainError

# Writing last_used_at on every request would make each GET a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_issue(*, username: str, password: str, name: str = "") -> str:
    """Check the password and return a new bearer token (shown once, stored hashed)."""
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise DomainError("invalid_credentials", "用户名或密码错误", status=401)
    key = ApiToken.new_key()
    ApiToken.objects.create(user=user, key_hash=hash_token(key), name=name[:100], created_at=clock.now())
    return key


def token_user(key: str):
    """Return the active user owning ``key``, or None."""
    token = ApiToken.objects.select_related("user__staff__department").filter(key_hash=hash_token(key)).first()
    if token is None or not token.user.is_active:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
