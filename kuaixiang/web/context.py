from kuaixiang.notify.services import inbox_unread_count


def navigation(request) -> dict:
    """The bell's unread count and the user's role for the navigation bar."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {"unread_count": inbox_unread_count(user)}
