"""The demo county's 2023 key-project list (invented names, realistic values).

(name, category, total 万元, level, kind, unit, actual start or None, tags)
Categories 12 / 14 / 10 at 305.3 / 47.11 / 16.08 亿 (= 368.49 亿), bands 8 / 5 / 23,
levels 2 / 7 (5 continued + 2 new) / 27 — while the declared plan says 368.17 亿 (policy R4).
"""

from __future__ import annotations

KEY_PROJECTS = [
    # provincial (2)
    # the seed names both provincial projects and their targets (policy R11): 心言 ≥ 50 % of
    # its construction this year, 枝柯 substantively started by mid-June (6月中旬)
    ("心言生物黑木耳产业发展综合开发一期项目", "industrial", 850000, "provincial", "continued",
     "town-nanchuan", "2021-09-18", ["园区", "新材料", "重大产业"]),
    ("枝柯煤化工新材料工业园区", "industrial", 620000, "provincial", "new", "town-qingshi",
     "2023-04-20", ["新材料", "重大产业", "招商引资"]),
    # municipal continued (5)
    ("东河百万吨级绿色焦化升级改造", "industrial", 410000, "municipal", "continued",
     "town-donghe", "2022-05-06", ["技改", "节能降碳"]),
    ("西山200MW风光储一体化电站", "industrial", 300000, "municipal", "continued", "town-xishan",
     "2022-08-15", ["新能源"]),
    ("县城至高铁站快速通道", "infrastructure", 120000, "municipal", "continued", "dept-jtj",
     "2022-03-28", ["交通"]),
    ("漳河水库引调水二期工程", "infrastructure", 85000, "municipal", "continued", "dept-slj",
     "2022-10-09", ["水利"]),
    ("县人民医院新院区", "livelihood", 68000, "municipal", "continued", "dept-zjj",
     "2022-06-01", ["医疗"]),
    # municipal new (2)
    ("南川精密铸造产业园", "industrial", 240000, "municipal", "new", "town-nanchuan",
     "2023-03-16", ["园区", "招商引资"]),
    ("城区集中供热管网扩容", "infrastructure", 68000, "municipal", "new", "dept-zjj",
     "2023-05-10", ["市政"]),
    # county (27): industrial 7
    ("北岭农副产品精深加工园", "industrial", 180000, "county", "continued", "town-beiling",
     "2022-09-01", ["农业产业化"]),
    ("青石镇光伏玻璃深加工", "industrial", 150000, "county", "new", "town-qingshi",
     "2023-05-22", ["新能源", "招商引资"]),
    ("城关镇智能制造标准厂房", "industrial", 105000, "county", "new", "town-chengguan",
     "2023-04-11", ["园区", "标准厂房"]),
    ("东河镇煤矸石综合利用", "industrial", 80000, "county", "continued", "town-donghe",
     "2022-07-19", ["循环经济"]),
    ("西山乡中药材产业园", "industrial", 56000, "county", "new", "town-xishan", None,
     ["农业产业化"]),
    ("县冷链物流中心", "industrial", 35000, "county", "new", "town-chengguan", "2023-06-05",
     ["物流"]),
    ("南川镇小杂粮加工扩建", "industrial", 27000, "county", "continued", "town-nanchuan",
     "2022-11-02", ["农业产业化"]),
    # county infrastructure 11
    ("S226线北岭段改线工程", "infrastructure", 52000, "county", "continued", "dept-jtj",
     "2022-04-08", ["交通"]),
    ("县城污水处理厂提标扩容", "infrastructure", 45000, "county", "new", "dept-zjj",
     "2023-03-30", ["环保", "市政"]),
    ("农村饮水安全巩固提升", "infrastructure", 38000, "county", "new", "dept-slj", "2023-04-25",
     ["水利", "乡村振兴"]),
    ("城区雨污分流改造", "infrastructure", 25350, "county", "continued", "dept-zjj",
     "2022-09-20", ["市政"]),
    ("东河镇乡村道路提质", "infrastructure", 18000, "county", "new", "town-donghe", "2023-05-15",
     ["交通", "乡村振兴"]),
    ("青石河生态治理", "infrastructure", 4800, "county", "new", "dept-slj", None, ["水利", "生态"]),
    ("城关镇停车场建设", "infrastructure", 4100, "county", "new", "town-chengguan", "2023-06-12",
     ["市政"]),
    ("西山乡农田水利配套", "infrastructure", 3200, "county", "continued", "dept-slj",
     "2022-10-15", ["水利"]),
    ("南川镇集镇供水改造", "infrastructure", 2850, "county", "new", "town-nanchuan", None,
     ["供水"]),
    ("北岭乡垃圾中转站", "infrastructure", 2600, "county", "new", "town-beiling", "2023-04-18",
     ["环保"]),
    ("县城公园照明改造", "infrastructure", 2200, "county", "new", "dept-zjj", "2023-05-06",
     ["市政"]),
    # county livelihood 9
    ("县第二中学新校区", "livelihood", 43700, "county", "continued", "dept-zjj", "2022-06-20",
     ["教育"]),
    ("城关镇棚户区改造三期", "livelihood", 30000, "county", "new", "town-chengguan",
     "2023-04-03", ["住房"]),
    ("县养老服务中心", "livelihood", 4600, "county", "new", "town-donghe", None, ["养老"]),
    ("全民健身中心", "livelihood", 3500, "county", "continued", "dept-zjj", "2022-08-08",
     ["文体"]),
    ("东河镇卫生院迁建", "livelihood", 2970, "county", "new", "town-donghe", "2023-05-29",
     ["医疗"]),
    ("西山乡幼儿园", "livelihood", 2680, "county", "new", "town-xishan", "2023-06-01",
     ["教育"]),
    ("青石镇便民服务中心", "livelihood", 2300, "county", "new", "town-qingshi", None, ["政务"]),
    ("北岭乡日间照料中心", "livelihood", 1850, "county", "new", "town-beiling", "2023-04-28",
     ["养老"]),
    ("南川镇农贸市场改造", "livelihood", 1200, "county", "continued", "town-nanchuan",
     "2022-12-01", ["商贸"]),
]

# the declared 2023 plan, exactly as the seed text states it (policy R4)
PLAN_2023 = {
    "count": 36, "total_investment": "3681700",
    "by_band": {"small": {"count": 8}, "medium": {"count": 5}, "large": {"count": 23}},
    "by_category": {"industrial": {"count": 12, "total_investment": "3053000"},
                    "infrastructure": {"count": 14, "total_investment": "471100"},
                    "livelihood": {"count": 10, "total_investment": "160800"}},
    "by_level": {"provincial": {"count": 2}, "municipal": {"count": 7, "continued": 5, "new": 2},
                 "county": {"count": 27}},
    "note": "2023年全县重点项目计划（36个，总投资368.17亿元）",
}

RESERVE_PLACES = ["城关", "东河", "西山", "南川", "北岭", "青石", "漳河", "太岳", "龙门", "凤鸣"]
RESERVE_KINDS = [
    ("抽水蓄能电站", "industrial"), ("氢能产业园", "industrial"), ("储能电池材料基地", "industrial"),
    ("现代煤化工项目", "industrial"), ("文旅康养综合体", "industrial"), ("数据中心", "industrial"),
    ("高速公路连接线", "infrastructure"), ("城乡供水一体化", "infrastructure"),
    ("物流园区", "infrastructure"), ("保障性租赁住房", "livelihood"), ("职业教育园区", "livelihood"),
]
UNITS = ["town-chengguan", "town-donghe", "town-xishan", "town-nanchuan", "town-beiling",
         "town-qingshi", "dept-jtj", "dept-slj", "dept-zjj", "dept-fgj"]
