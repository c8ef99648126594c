from ninja import Router

from kuaixiang.api.schemas import CategoryOut, DepartmentOut, Error
from kuaixiang.org.models import Department
from kuaixiang.triage.models import Category

router = Router(tags=["组织与分类"])


@router.get("/departments", response={200: list[DepartmentOut], 401: Error})
def list_departments(request):
    """全部启用的部门，按树的先序排列（path 为祖先 id 链）。"""
    return list(Department.objects.filter(active=True).order_by("path"))


@router.get("/categories", response={200: list[CategoryOut], 401: Error})
def list_categories(request):
    """投诉分类树（最多五级），按先序排列。"""
    return list(Category.objects.filter(active=True).order_by("path"))
