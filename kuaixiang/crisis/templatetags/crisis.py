"""``{% crisis_script_banner complaint_id %}``: the current explanation script of each open incident a
complaint is linked to, shown on top of the complaint page. ``{% crisis_script_banner user=request.user %}``
(no complaint) shows the scripts of the open incidents the user can see, on the registration form."""

from django import template

from kuaixiang.crisis import selectors

register = template.Library()


@register.inclusion_tag("crisis/partials/script_banner.html")
def crisis_script_banner(complaint_id=None, user=None):
    if complaint_id:
        items = selectors.scripts_for_complaint(int(complaint_id))
    elif user is not None and user.is_authenticated:
        items = selectors.scripts_open(user)
    else:
        items = []
    return {"items": items, "linked": bool(complaint_id)}
