import pytest
from django.core.exceptions import ValidationError

from kuaixiang.triage.models import Category


def _chain(depth: int, prefix: str) -> list[Category]:
    nodes, parent = [], None
    for level in range(1, depth + 1):
        parent = Category.objects.create(name=f"{prefix}{level}", code=f"{prefix}-{level}", parent=parent)
        nodes.append(parent)
    return nodes


@pytest.mark.django_db
def test_renaming_a_category_updates_the_full_name_of_its_descendants():
    top, mid, leaf = _chain(3, "a")
    top.name = "网络"
    top.save()
    leaf.refresh_from_db()
    assert leaf.full_name == "网络 / a2 / a3"


@pytest.mark.django_db
def test_moving_a_subtree_updates_level_and_path_below_it():
    a1, a2, a3 = _chain(3, "a")
    (b1,) = _chain(1, "b")
    a2.parent = b1
    a2.save()
    a3.refresh_from_db()
    assert a3.path.startswith(b1.path) and a3.level == 3
    assert a3.full_name == "b1 / a2 / a3"


@pytest.mark.django_db
def test_a_sixth_level_is_refused():
    leaf = _chain(5, "a")[-1]
    with pytest.raises(ValidationError):
        Category.objects.create(name="x", code="x", parent=leaf)


@pytest.mark.django_db
def test_a_move_that_would_push_descendants_below_level_five_is_refused():
    a = _chain(3, "a")
    b = _chain(3, "b")
    a[0].parent = b[-1]
    with pytest.raises(ValidationError):
        a[0].save()


@pytest.mark.django_db
def test_a_category_cannot_become_its_own_descendant():
    a1, a2, _ = _chain(3, "a")
    a1.parent = a2
    with pytest.raises(ValidationError):
        a1.save()
