from kuaixiang.complaints.present import person_name
from kuaixiang.complaints.services import staff_of
from kuaixiang.errors import DomainError
from kuaixiang.notify.services import inbox_unread_count


def navigation(request) -> dict:
    """The bell's unread count and who is signed in (name, role, department) for the navigation bar."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    try:
        staff = staff_of(user)
    except DomainError:
        staff = None
    return {
        "unread_count": inbox_unread_count(user),
        "kx_staff": staff,
        "kx_display_name": person_name(user),
    }
