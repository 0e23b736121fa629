"""A generated city for measurements: ~3,000 units four or five levels deep, 150,000 learners.

``python -m benchmarks.city OUT_DIR [--learners N] [--seed S] [--xlsx]`` writes, with the
documented headers (bot/core/tabular.toml), the files the city office imports:

- ``units.csv``: the unit tree (county/park → first-level units → second and third levels);
- ``roster.csv``: learners with Chinese names and phone-number accounts, some exempt, some
  not in service, with their credits;
- ``results_zone1.csv``, ``results_zone2.csv``, ``results_makeup.csv``: a score for most
  learners of each round, an absence for some;
- with ``--xlsx``, the same as .xlsx (openpyxl, write-only).

The same seed gives the same city, byte for byte. Nothing here is product code.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞鹏辉建国文斌宇浩凯婷雪琳晨阳欣怡佳俊志红梅波鑫海燕亮成龙丹萍慧颖"
COUNTIES = [
    ("county", "耒阳市"),
    ("county", "常宁市"),
    ("county", "衡阳县"),
    ("county", "衡南县"),
    ("county", "衡山县"),
    ("county", "衡东县"),
    ("county", "祁东县"),
    ("county", "南岳区"),
    ("county", "珠晖区"),
    ("county", "雁峰区"),
    ("park", "高新区"),
    ("park", "松木经开区"),
]
DEPARTMENTS = [
    "公安局",
    "教育局",
    "财政局",
    "人社局",
    "民政局",
    "卫健局",
    "自然资源局",
    "应急管理局",
    "税务局",
    "交通运输局",
    "农业农村局",
    "统计局",
    "信访局",
    "科技局",
    "司法局",
    "住建局",
    "市场监督管理局",
    "文旅广电局",
    "水利局",
    "商务局",
    "审计局",
    "林业局",
    "生态环境分局",
    "发改局",
    "工信局",
    "医保局",
    "退役军人事务局",
    "城管局",
    "档案馆",
    "机关事务中心",
    "政务服务中心",
    "总工会",
    "妇联",
    "团委",
    "科协",
    "残联",
    "法院",
    "检察院",
    "纪委监委",
    "组织部",
    "宣传部",
    "统战部",
    "政法委",
    "编办",
    "党校",
    "融媒体中心",
    "供销社",
    "气象局",
]
SUBS = ["办公室", "一中队", "二中队", "服务中心", "执法大队", "综合股", "业务科", "所"]
ZONE_ROUNDS = ("第一次分众组考", "第二次分众组考")
MAKEUP = "补考"


@dataclass
class City:
    units: list[tuple[str, str, str, str]] = field(default_factory=list)  # code, name, kind, parent
    leaves: list[str] = field(default_factory=list)  # codes learners may belong to

    def add(self, code: str, name: str, kind: str, parent: str) -> str:
        self.units.append((code, name, kind, parent))
        if kind in ("unit", "sub"):
            self.leaves.append(code)
        return code


def build_units(rng: random.Random, target: int = 3000) -> City:
    """12 counties and parks plus the city's own departments; each first-level unit has 0–6
    second-level units, some of which have third-level ones: about ``target`` units in all."""
    city = City()
    places = [("city", "市", "city")] + [
        (kind, name, f"c{i:02d}") for i, (kind, name) in enumerate(COUNTIES)
    ]
    per_place = max(1, target // len(places))
    for kind, place, code in places:
        parent = "city"
        if kind != "city":
            city.add(code, place, kind, "city")
            parent = code
        count = 0
        for d, dept in enumerate(DEPARTMENTS):
            if count >= per_place:
                break
            first = city.add(f"{code}-{d:02d}", f"{place}{dept}", "unit", parent)
            count += 1
            for s in range(rng.randint(0, 6)):
                if count >= per_place:
                    break
                second = city.add(
                    f"{first}-{s}", f"{place}{dept}{SUBS[s % len(SUBS)]}{s + 1}", "sub", first
                )
                count += 1
                if rng.random() < 0.2 and count < per_place:
                    city.add(
                        f"{second}-1",
                        f"{place}{dept}{SUBS[s % len(SUBS)]}{s + 1}一组",
                        "sub",
                        second,
                    )
                    count += 1
    return city


Learner = tuple[str, str, str, str, str, int, int]


def learners(rng: random.Random, city: City, n: int) -> Iterator[Learner]:
    """account, name, unit, in service, exempt, required credits, total credits."""
    seen: set[str] = set()
    weights = [rng.randint(5, 120) for _ in city.leaves]
    units = rng.choices(city.leaves, weights=weights, k=n)
    for unit in units:
        while True:
            account = f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"
            if account not in seen:
                seen.add(account)
                break
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        in_service = "否" if rng.random() < 0.02 else "是"
        exempt = "是" if rng.random() < 0.03 else "否"
        required = rng.choice((60, 60, 60, 45, 30, 0))
        total = required + rng.choice((40, 40, 40, 55, 20, 0))
        yield account, name, unit, in_service, exempt, required, total


def result_rows(
    rng: random.Random, roster: list[Learner], round_name: str, share: float
) -> Iterator[tuple[str, str, str]]:
    for row in roster:
        if rng.random() >= share:
            continue
        score = "缺考" if rng.random() < 0.04 else str(rng.choice(range(35, 101)))
        yield row[0], round_name, score


UNIT_HEADER = ["单位编码", "单位名称", "单位类型", "上级单位编码"]
ROSTER_HEADER = ["登录账号", "姓名", "单位编码", "在职状态", "免考", "必修学分", "总学分"]
RESULT_HEADER = ["登录账号", "考试轮次", "成绩"]
KIND_WORDS = {"county": "县市区", "park": "园区", "unit": "一级单位", "sub": "二级单位"}


def _write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _write_xlsx(path: Path, header: list[str], rows: list[tuple]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    book.save(path)


def generate(
    out: Path, *, learners_count: int = 150_000, seed: int = 2022, xlsx: bool = False
) -> dict[str, int]:
    """Write the city's files under ``out``; return the row count of each."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    city = build_units(rng)
    unit_rows = [(code, name, KIND_WORDS[kind], parent) for code, name, kind, parent in city.units]
    roster = list(learners(rng, city, learners_count))
    files: dict[str, tuple[list[str], list[tuple]]] = {
        "units": (UNIT_HEADER, unit_rows),
        "roster": (ROSTER_HEADER, roster),
        "results_zone1": (RESULT_HEADER, list(result_rows(rng, roster, ZONE_ROUNDS[0], 0.7))),
        "results_zone2": (RESULT_HEADER, list(result_rows(rng, roster, ZONE_ROUNDS[1], 0.25))),
        "results_makeup": (RESULT_HEADER, list(result_rows(rng, roster, MAKEUP, 0.05))),
    }
    counts = {}
    for name, (header, rows) in files.items():
        _write_csv(out / f"{name}.csv", header, rows)
        if xlsx:
            _write_xlsx(out / f"{name}.xlsx", header, rows)
        counts[name] = len(rows)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.city")
    parser.add_argument("out", type=Path)
    parser.add_argument("--learners", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--xlsx", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(args.out, learners_count=args.learners, seed=args.seed, xlsx=args.xlsx)
    for name, count in counts.items():
        print(f"{name}: {count} rows")
    print(f"written to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
