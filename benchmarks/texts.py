"""Chinese complaint text from our own templates (pure Python, seeded, no Django).

If ``../shared/data/complaints_dev.csv`` is present, a quarter of the descriptions are real
consumer complaints read from it at run time (never copied into the repository); without
it every description comes from the templates.
"""

import csv
import os
import random
from pathlib import Path

from benchmarks.common import ROOT

CSV_PATH = Path(os.environ.get("BENCH_TEXT_CSV", ROOT.parent / "shared" / "data" / "complaints_dev.csv"))
CSV_SHARE = 0.25

# Search keywords the list part measures: frequent (2 characters, in about a sixth of the
# rows), rare (4 characters, about 1 row in 2,000) and absent (no row: the worst case).
COMMON_KEYWORD = "信号"
RARE_KEYWORD = "基站辐射"
RARE_EVERY = 2000
ABSENT_KEYWORD = "量子纠缠"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红鹏辉建国志飞晓东海波宁慧"
MOBILE_PREFIXES = [
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "177",
    "180",
    "189",
]
CITIES = ["杭州市", "宁波市", "温州市", "绍兴市", "嘉兴市", "湖州市", "金华市", "台州市"]
DISTRICTS = ["西湖区", "拱墅区", "滨江区", "萧山区", "余杭区", "鄞州区", "海曙区", "鹿城区", "越城区", "南湖区"]
ROADS = ["文三路", "学院路", "中山路", "解放路", "人民路", "建设路", "新华路", "江南大道", "天目山路", "环城北路"]
PLACES_TAIL = ["小区", "花园", "大厦", "营业厅", "工业园", "新村"]
SUBJECTS = {
    "net": ["移动网络", "家庭宽带", "装维人员", "5G网络", "光猫设备", "基站"],
    "bill": ["话费账单", "流量套餐", "增值业务", "10086扣费", "包月业务"],
    "biz": ["营业厅", "携号转网", "合约计划", "宽带续约", "营销活动"],
    "svc": ["客服热线", "营业员", "装维师傅", "客户经理", "投诉处理人员"],
}
PROBLEMS = {
    "net": [
        "家里手机信号很差，打电话经常听不清",
        "最近一周手机信号时有时无，室内基本没有信号",
        "通话过程中频繁掉线，一天要掉好几次",
        "4G/5G 网络上网特别慢，视频完全打不开",
        "家里宽带经常断网，重启光猫也没有用",
        "宽带报修三天了还没有人上门处理",
        "办理的千兆宽带实际网速只有几十兆",
        "光猫指示灯一直闪红灯，无法上网",
        "新装宽带约好的时间装维人员没有来",
        "小区里信号覆盖不好，地下车库完全没有信号",
    ],
    "bill": [
        "本月话费突然多扣了一百多元，不知道是什么费用",
        "没有订购任何增值业务却每月被扣费",
        "套餐资费和办理时营业员承诺的不一致",
        "流量明明没有用完却被收取了超出费用",
        "申请退订业务后仍然继续扣费",
        "出国回来发现产生了高额漫游费",
        "账单明细看不懂，客服也解释不清楚",
    ],
    "biz": [
        "办理携号转网被多次拒绝，理由说不清楚",
        "去营业厅销户被要求先交违约金",
        "营业员推销的优惠活动承诺的赠品一直没有兑现",
        "办理宽带续约时被捆绑了不需要的业务",
        "过户手续太繁琐，跑了三次营业厅都没办成",
        "网上办理的业务显示成功但实际没有生效",
    ],
    "svc": [
        "拨打客服热线排队半个小时没有人接听",
        "营业员态度恶劣，对我的问题爱理不理",
        "投诉后一直没有人回电话，处理结果也没有告知",
        "客服互相推诿，每次打电话都让我找别的部门",
        "装维师傅上门服务态度很差，还乱收材料费",
        "答应二十四小时内回复，结果一周过去了还没消息",
    ],
}
DETAILS = [
    "已经反映过多次，问题一直没有解决。",
    "这个问题从上个月开始就存在了。",
    "给工作和生活带来很大不便。",
    "家里老人经常联系不上，非常着急。",
    "我是老用户了，用了十几年，对这种处理很失望。",
    "之前打过客服电话，说会有人联系我，结果没有下文。",
    "同小区很多邻居也有同样的问题。",
    "周末在家办公，严重影响工作。",
    "",
    "",
]
ESCALATIONS = [
    "如果再不解决我将向工信部投诉。",
    "希望尽快给一个明确的答复。",
    "请相关部门重视。",
    "否则我会考虑携号转网。",
    "",
    "",
    "",
]
APPEALS = [
    "尽快修复网络",
    "退还多扣的费用",
    "给予合理赔偿",
    "上门检修并说明原因",
    "取消不需要的业务并退费",
    "对服务人员进行批评教育并道歉",
    "按照承诺兑现优惠",
    "尽快给出处理结果",
]


def load_csv_texts() -> list[str]:
    """Real complaint texts from the shared data set, or [] when it is absent."""
    if not CSV_PATH.is_file():
        return []
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        return [row["text"].strip() for row in csv.DictReader(handle) if row.get("text", "").strip()][:20_000]


def text_source() -> str:
    return f"templates + {CSV_PATH.name}" if CSV_PATH.is_file() else "templates only (no shared CSV)"


class TextGenerator:
    """Seeded generator of the free-text fields of a complaint."""

    def __init__(self, seed: int = 1, *, use_csv: bool = True):
        self.rng = random.Random(seed)
        self.csv_texts = load_csv_texts() if use_csv else []
        self.source = f"templates + {len(self.csv_texts)} texts from {CSV_PATH.name}" if self.csv_texts else "templates"
        self.pools = {top: [self._template(top) for _ in range(4000)] for top in PROBLEMS}
        self.places = [
            f"{self.rng.choice(CITIES)}{self.rng.choice(DISTRICTS)}{self.rng.choice(ROADS)}"
            f"{self.rng.randint(1, 999)}号{self.rng.choice(PLACES_TAIL)}"
            for _ in range(2000)
        ]
        self.names = [
            self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=self.rng.choice((1, 2)))) for _ in range(5000)
        ]
        self.names += [self.rng.choice(SURNAMES) + title for title in ("先生", "女士") for _ in range(500)]

    def _template(self, top: str) -> str:
        rng = self.rng
        parts = [
            f"{rng.choice(['本人', '我', '用户'])}{rng.choice(['', '住在' + rng.choice(DISTRICTS) + '，'])}",
            rng.choice(PROBLEMS[top]) + "，",
            rng.choice(DETAILS),
            rng.choice(ESCALATIONS),
        ]
        return "".join(parts)

    def _pick(self, seq: list[str]) -> str:
        return seq[int(self.rng.random() * len(seq))]

    def description(self, top: str, index: int) -> str:
        if self.csv_texts and self.rng.random() < CSV_SHARE:
            text = self._pick(self.csv_texts)
        else:
            text = self._pick(self.pools[top])
        if index % RARE_EVERY == 7:
            text += f"另外怀疑附近的{RARE_KEYWORD}影响健康。"
        return text[:2000]

    def subject(self, top: str) -> str:
        return self._pick(SUBJECTS[top])

    def place(self) -> str:
        return self._pick(self.places)

    def name(self) -> str:
        return self._pick(self.names)

    def phone(self) -> str:
        return self._pick(MOBILE_PREFIXES) + f"{int(self.rng.random() * 10**8):08d}"

    def appeal(self) -> str:
        return self._pick(APPEALS)
