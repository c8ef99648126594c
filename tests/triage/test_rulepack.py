"""Loading a rule pack's category tree: idempotent by code, five levels at most, clear errors."""

from textwrap import dedent

import pytest
from django.core.management import CommandError, call_command

from kuaixiang.rulepacks import RulepackError, rulepack_load, rulepack_load_text
from kuaixiang.triage.models import Category

TELECOM = "telecom"

SMALL = """
categories:
  - code: net
    name: 网络质量
    children:
      - code: net-mob
        name: 移动网络
        children:
          - {code: net-mob-weak, name: 信号弱}
          - {code: net-mob-none, name: 无信号}
  - code: bill
    name: 计费与资费
"""


def deep_pack(levels: int) -> str:
    """A pack with one chain ``levels`` deep."""
    lines = ["categories:"]
    for level in range(1, levels + 1):
        indent = "    " * (level - 1)
        lines.append(f"{indent}  - code: c{level}")
        lines.append(f"{indent}    name: 第{level}级")
        if level < levels:
            lines.append(f"{indent}    children:")
    return "\n".join(lines) + "\n"


def snapshot():
    return sorted(
        Category.objects.values_list("id", "code", "name", "parent_id", "level", "path", "full_name", "active")
    )


@pytest.mark.django_db
class TestTelecomPack:
    def test_the_shipped_telecom_pack_loads_a_five_level_tree(self):
        result = rulepack_load(TELECOM)

        assert result["categories"].created == Category.objects.count() > 100
        assert set(Category.objects.values_list("level", flat=True)) == {1, 2, 3, 4, 5}
        leaf = Category.objects.get(code="bill-fee-voice-dispute-high")
        assert leaf.full_name == "计费与资费 / 费用争议 / 通信费用 / 话费 / 话费争议"
        for code in ("net-mob-cov-5g-weak", "biz-plan-change-effect-no", "bb-fault-conn-line-drop"):
            assert Category.objects.get(code=code).is_leaf

    def test_loading_the_same_pack_twice_changes_nothing(self):
        rulepack_load(TELECOM)
        before = snapshot()

        again = rulepack_load(TELECOM)

        assert (again["categories"].created, again["categories"].updated) == (0, 0)
        assert again["categories"].unchanged == len(before)
        assert snapshot() == before


@pytest.mark.django_db
class TestIdempotentByCode:
    def test_a_renamed_node_keeps_its_id_and_its_children_follow_the_new_name(self):
        rulepack_load_text(SMALL)
        ids = dict(Category.objects.values_list("code", "id"))

        result = rulepack_load_text(SMALL.replace("移动网络", "无线网络"))

        assert dict(Category.objects.values_list("code", "id")) == ids
        assert Category.objects.get(code="net-mob-weak").full_name == "网络质量 / 无线网络 / 信号弱"
        assert (result["categories"].created, result["categories"].updated) == (0, 3)

    def test_a_moved_node_takes_its_new_parent_level_and_path(self):
        rulepack_load_text(SMALL)
        moved = SMALL.replace(
            "  - code: bill\n    name: 计费与资费\n",
            "  - code: bill\n    name: 计费与资费\n    children:\n      - {code: net-mob-none, name: 无信号}\n",
        ).replace("          - {code: net-mob-none, name: 无信号}\n", "")

        rulepack_load_text(moved)

        node = Category.objects.get(code="net-mob-none")
        bill = Category.objects.get(code="bill")
        assert (node.parent_id, node.level, node.full_name) == (bill.pk, 2, "计费与资费 / 无信号")
        assert node.path == f"{bill.path}{node.pk}/"

    def test_categories_the_pack_does_not_mention_are_left_alone(self):
        rulepack_load_text(SMALL)
        own = Category.objects.create(name="自建分类", code="local-only")

        rulepack_load_text(SMALL)

        assert Category.objects.filter(pk=own.pk, active=True).exists()

    def test_active_false_retires_a_node_without_deleting_it(self):
        rulepack_load_text(SMALL)

        rulepack_load_text(
            SMALL.replace("{code: net-mob-none, name: 无信号}", "{code: net-mob-none, name: 无信号, active: false}")
        )

        assert Category.objects.get(code="net-mob-none").active is False


@pytest.mark.django_db
class TestDepthLimit:
    def test_five_levels_are_accepted(self):
        rulepack_load_text(deep_pack(5))

        assert Category.objects.get(code="c5").level == 5

    def test_a_sixth_level_is_rejected_with_a_clear_error_and_nothing_is_written(self):
        with pytest.raises(RulepackError) as caught:
            rulepack_load_text(deep_pack(6), source="deep.yaml")

        message = caught.value.message
        assert "deep.yaml" in message
        assert "code=c6" in message
        assert "第 6 级" in message and "最多 5 级" in message
        assert caught.value.code == "rulepack_invalid"
        assert Category.objects.count() == 0

    def test_moving_a_node_so_that_children_the_pack_omits_would_sink_below_level_five_is_rejected(self):
        rulepack_load_text(deep_pack(5))
        # The pack now puts c2 (with c3…c5 below it in the database) under a new chain two levels deeper.
        nested = "categories:\n  - code: x1\n    name: X1\n    children:\n      - code: x2\n        name: X2\n"
        nested += "        children:\n          - code: c2\n            name: 第2级\n"

        with pytest.raises(RulepackError, match="最多 5 级"):
            rulepack_load_text(nested)

        assert not Category.objects.filter(code__in=["x1", "x2"]).exists()
        assert Category.objects.get(code="c5").level == 5


@pytest.mark.django_db
class TestMalformedPacks:
    def test_broken_yaml_names_the_line(self):
        with pytest.raises(RulepackError) as caught:
            rulepack_load_text("categories:\n  - code: a\n    name: [unclosed\n", source="broken.yaml")

        assert "YAML 格式错误" in caught.value.message
        assert "broken.yaml 第 4 行" in caught.value.message

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("- just a list\n", "应为 YAML 映射"),
            ("pack: x\ncategoires: []\n", "未知的节：categoires"),
            ("categories: []\n", "非空列表"),
            ("categories:\n  - name: 无编码\n", "缺少 code"),
            ("categories:\n  - code: a\n", "缺少 name"),
            ("categories:\n  - code: a b\n    name: 空格\n", "空白字符"),
            ("categories:\n  - code: a\n    name: A\n    chidren: []\n", "未知字段 chidren"),
            ("categories:\n  - code: a\n    name: A\n    children: {code: b}\n", "children 应为列表"),
            ("categories:\n  - code: a\n    name: A\n    active: maybe\n", "active 应为 true 或 false"),
            ("categories:\n  - code: a\n    name: A\n  - code: a\n    name: B\n", "code 重复：a"),
            ("categories:\n  - 42\n", "分类节点应为映射"),
            (f"categories:\n  - code: {'x' * 65}\n    name: A\n", "code 过长"),
        ],
    )
    def test_each_mistake_gets_a_message_that_says_what_is_wrong(self, text, expected):
        with pytest.raises(RulepackError, match=expected):
            rulepack_load_text(text)
        assert Category.objects.count() == 0

    def test_a_pack_without_categories_loads_its_other_sections_only(self):
        result = rulepack_load_text("pack: x\n")

        assert result.results == {}
        assert Category.objects.count() == 0

    def test_a_missing_file_is_reported(self, tmp_path):
        with pytest.raises(RulepackError, match="不存在"):
            rulepack_load(tmp_path / "nope.yaml")


@pytest.mark.django_db
class TestCommand:
    def test_load_rulepack_reports_what_it_did(self, capsys):
        call_command("load_rulepack", str(TELECOM))
        call_command("load_rulepack", str(TELECOM))

        out = capsys.readouterr().out.splitlines()
        total = Category.objects.count()
        assert f"新增 {total}" in out[0]
        assert f"未变 {total}" in out[1]

    def test_load_rulepack_turns_a_bad_pack_into_a_command_error(self, tmp_path):
        bad = tmp_path / "bad.yaml"
        bad.write_text(dedent(deep_pack(6)), encoding="utf-8")

        with pytest.raises(CommandError, match="最多 5 级"):
            call_command("load_rulepack", str(bad))
