"""Vocabularies and name builders: Chinese and foreign company names, people, and payer-name variants."""

from __future__ import annotations

import numpy as np

# city, big region, administrative division code (first 6 digits of a credit code's division part)
CITIES = (
    ("北京", "华北", "110000"),
    ("天津", "华北", "120000"),
    ("石家庄", "华北", "130100"),
    ("太原", "华北", "140100"),
    ("呼和浩特", "华北", "150100"),
    ("上海", "华东", "310000"),
    ("南京", "华东", "320100"),
    ("苏州", "华东", "320500"),
    ("杭州", "华东", "330100"),
    ("宁波", "华东", "330200"),
    ("合肥", "华东", "340100"),
    ("福州", "华东", "350100"),
    ("厦门", "华东", "350200"),
    ("南昌", "华东", "360100"),
    ("济南", "华东", "370100"),
    ("青岛", "华东", "370200"),
    ("郑州", "华中", "410100"),
    ("武汉", "华中", "420100"),
    ("长沙", "华中", "430100"),
    ("广州", "华南", "440100"),
    ("深圳", "华南", "440300"),
    ("佛山", "华南", "440600"),
    ("东莞", "华南", "441900"),
    ("南宁", "华南", "450100"),
    ("海口", "华南", "460100"),
    ("重庆", "西南", "500000"),
    ("成都", "西南", "510100"),
    ("贵阳", "西南", "520100"),
    ("昆明", "西南", "530100"),
    ("西安", "西北", "610100"),
    ("兰州", "西北", "620100"),
    ("银川", "西北", "640100"),
    ("乌鲁木齐", "西北", "650100"),
    ("沈阳", "东北", "210100"),
    ("大连", "东北", "210200"),
    ("长春", "东北", "220100"),
    ("哈尔滨", "东北", "230100"),
)
CITY_WEIGHTS = np.array(
    [
        6,
        3,
        1,
        1,
        1,
        7,
        4,
        3,
        4,
        2,
        2,
        2,
        2,
        1,
        2,
        2,
        2,
        4,
        2,
        5,
        6,
        2,
        2,
        1,
        1,
        3,
        4,
        1,
        1,
        2,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
    ],
    dtype=float,
)
REGIONS = ("华北", "华东", "华中", "华南", "西南", "西北", "东北")

INDUSTRIES = (
    "建筑业",
    "房地产业",
    "交通运输",
    "电力能源",
    "制造业",
    "信息技术",
    "医疗卫生",
    "教育",
    "金融业",
    "公共管理",
    "水利环保",
)
INDUSTRY_WORDS = {
    "建筑业": ("建设工程", "建筑工程", "建工", "市政工程", "装饰工程"),
    "房地产业": ("置业", "房地产开发", "地产"),
    "交通运输": ("交通建设", "路桥工程", "轨道交通", "港务"),
    "电力能源": ("电力工程", "新能源", "能源", "热力"),
    "制造业": ("机械制造", "电气", "装备制造", "精密工业"),
    "信息技术": ("信息技术", "软件", "数字科技", "智能科技", "网络科技"),
    "医疗卫生": ("医疗科技", "医药", "健康产业"),
    "教育": ("教育科技", "教育发展"),
    "金融业": ("投资", "金融控股", "融资租赁"),
    "公共管理": ("城市发展", "城市建设投资"),
    "水利环保": ("水务", "环保科技", "环境工程"),
}
BRANDS = (
    "华建",
    "中拓",
    "宏远",
    "恒达",
    "鑫源",
    "瑞丰",
    "金桥",
    "天成",
    "博远",
    "海润",
    "联创",
    "正通",
    "安泰",
    "永盛",
    "嘉禾",
    "信达",
    "中科",
    "华信",
    "国泰",
    "长城",
    "东方",
    "汇通",
    "明德",
    "立达",
    "星河",
    "启航",
    "卓越",
    "宏图",
    "盛世",
    "华晟",
    "隆基",
    "万丰",
    "锦程",
    "同创",
    "新纪元",
    "鼎盛",
    "泰和",
    "润和",
    "华宇",
    "恒基",
    "广厦",
    "远大",
    "中盛",
    "华润通",
    "德信",
    "诚达",
    "金辉",
    "天润",
    "联泰",
    "众合",
    "瑞华",
    "鸿运",
    "中瑞",
    "祥和",
    "东盛",
    "浩天",
    "云海",
    "蓝图",
    "智汇",
    "创元",
)
SOE_GROUPS = ("中铁", "中建", "中交", "中冶", "中电建", "中水", "中化", "中核", "中能建", "中航")
CN_NUMERALS = (
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "十一",
    "十二",
    "十四",
    "十五",
    "十六",
    "十七",
    "十八",
    "十九",
    "二十",
    "二十二",
    "二十五",
)
GOV_DEPTS = (
    "住房和城乡建设局",
    "交通运输局",
    "水务局",
    "城市管理局",
    "数据资源管理局",
    "公安局",
    "自然资源和规划局",
    "教育局",
    "卫生健康委员会",
    "政务服务管理局",
    "应急管理局",
    "生态环境局",
)
SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司")

FOREIGN_FIRST = (
    "Pacific",
    "Atlas",
    "Nordic",
    "Harbour",
    "Meridian",
    "Summit",
    "Crescent",
    "Horizon",
    "Sterling",
    "Evergreen",
    "Bluewater",
    "Ironbridge",
    "Kestrel",
    "Orion",
    "Vanguard",
    "Alpine",
    "Coastal",
    "Greenfield",
    "Silverline",
    "Keystone",
    "Lakeside",
    "Northgate",
)
FOREIGN_SECOND = (
    "Engineering",
    "Infrastructure",
    "Technologies",
    "Trading",
    "Industrial",
    "Systems",
    "Energy",
    "Logistics",
    "Construction",
    "Consulting",
    "Resources",
    "Projects",
)
FOREIGN_SUFFIX = {
    "USD": ("Inc.", "LLC", "Corp.", "Pte. Ltd."),
    "EUR": ("GmbH", "S.A.", "B.V.", "AG", "S.r.l."),
    "HKD": ("Limited", "Holdings Limited", "(Hong Kong) Limited", "Company Limited"),
}

SURNAMES = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("罗", "luo"),
    ("高", "gao"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
)
GIVEN = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("华", "hua"),
    ("平", "ping"),
    ("刚", "gang"),
    ("建国", "jianguo"),
    ("志强", "zhiqiang"),
    ("海燕", "haiyan"),
    ("晓东", "xiaodong"),
    ("文博", "wenbo"),
    ("子涵", "zihan"),
    ("浩然", "haoran"),
    ("雨婷", "yuting"),
    ("俊杰", "junjie"),
    ("思远", "siyuan"),
    ("建华", "jianhua"),
    ("立新", "lixin"),
)

# Payer-name variant kinds, in the order of the per-customer variant table's columns.
VARIANT_KINDS = ("exact", "no_suffix", "short", "bracket_style", "branch", "case", "treasury")


def pick(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    """n picks from a tuple of strings as an object array."""
    arr = np.array(options, dtype=object)
    if p is not None:
        p = np.asarray(p, float) / np.sum(p)
    return arr[rng.choice(len(arr), size=n, p=p)]


def person_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chinese person names and their pinyin (given.surname), for emails and actors."""
    s = rng.integers(0, len(SURNAMES), n)
    g = rng.integers(0, len(GIVEN), n)
    sur = np.array(SURNAMES, dtype=object)
    giv = np.array(GIVEN, dtype=object)
    names = sur[s, 0] + giv[g, 0]
    pinyin = giv[g, 1] + "." + sur[s, 1]
    return names, pinyin


def strip_suffix(name: str) -> str:
    for suf in ("集团有限公司", "股份有限公司", "有限责任公司", "有限公司"):
        if name.endswith(suf):
            return name[: -len(suf)] + ("集团" if suf.startswith("集团") else "")
    return name


def company_name(
    rng: np.random.Generator,
    ctype: str,
    city: str,
    industry: str,
    currency: str,
    parent: tuple[str, str] | None = None,
    is_parent: bool = False,
) -> tuple[str, str]:
    """(full legal name, the short name people write) for one customer.

    Called once per customer (thousands to a few hundred thousand), not per invoice.
    """
    r = rng.random
    if ctype == "foreign":
        first = FOREIGN_FIRST[int(r() * len(FOREIGN_FIRST))]
        second = FOREIGN_SECOND[int(r() * len(FOREIGN_SECOND))]
        sufs = FOREIGN_SUFFIX[currency]
        suf = sufs[int(r() * len(sufs))]
        if parent is not None:
            return f"{parent[1]} {city_en(city)} {suf}", f"{parent[1]} {city_en(city)}"
        tag = f"{first} {second}"
        return f"{tag} {suf}", tag
    if ctype == "individual":
        s = SURNAMES[int(r() * len(SURNAMES))][0]
        g = GIVEN[int(r() * len(GIVEN))][0]
        return s + g, s + g
    if ctype == "government":
        if industry == "医疗卫生":
            n = CN_NUMERALS[int(r() * 8)]
            return f"{city}市第{n}人民医院", f"{city}{n}院"
        if industry == "教育":
            return (
                f"{city}职业技术学院" if r() < 0.5 else f"{city}市第{CN_NUMERALS[int(r() * 12)]}中学",
                f"{city}职院",
            )
        dept = GOV_DEPTS[int(r() * len(GOV_DEPTS))]
        return f"{city}市{dept}", f"{city}{dept[:2]}局"
    words = INDUSTRY_WORDS[industry]
    word = words[int(r() * len(words))]
    if parent is not None:  # subsidiary: the parent's brand, its own city and line of business
        brand = parent[1]
        if r() < 0.4:
            n = CN_NUMERALS[int(r() * 10)]
            return f"{brand}第{n}工程有限公司", f"{brand}{n}公司"
        return (
            f"{brand}({city}){word}有限公司" if r() < 0.3 else f"{city}{brand}{word}有限公司",
            f"{brand}{city}",
        )
    if ctype == "soe":
        if r() < 0.5:
            grp = SOE_GROUPS[int(r() * len(SOE_GROUPS))]
            n = CN_NUMERALS[int(r() * len(CN_NUMERALS))]
            brand = f"{grp}{n}局"
            if is_parent:
                return f"{brand}集团有限公司", brand
            return f"{brand}集团{city}{word}有限公司", f"{brand}{city}"
        brand = BRANDS[int(r() * len(BRANDS))]
        if is_parent:
            return f"{city}{brand}投资集团有限公司", f"{city}{brand}"
        return f"{city}市{brand}{word}有限责任公司", f"{city}{brand}"
    brand = BRANDS[int(r() * len(BRANDS))]
    if is_parent:
        return f"{brand}控股集团有限公司", brand
    suf = SUFFIXES[int(r() * len(SUFFIXES))]
    return f"{city}{brand}{word}{suf}", f"{brand}{word[:2]}"


_CITY_EN = {"北京": "Beijing", "上海": "Shanghai", "广州": "Guangzhou", "深圳": "Shenzhen"}


def city_en(city: str) -> str:
    return _CITY_EN.get(city, "China")


def payer_variants(full: str, short: str, ctype: str, city: str) -> tuple[str, ...]:
    """The name a payer's bank writes, one per VARIANT_KINDS entry (falls back to the full name)."""
    if ctype == "foreign":
        up = full.upper()
        no_suf = full
        for suf in (
            " Holdings Limited",
            " Company Limited",
            " Limited",
            " Pte. Ltd.",
            " Inc.",
            " LLC",
            " Corp.",
            " GmbH",
            " S.A.",
            " B.V.",
            " AG",
            " S.r.l.",
        ):
            if full.endswith(suf):
                no_suf = full[: -len(suf)]
                break
        return (
            full,
            no_suf,
            short.upper(),
            full.replace("(", "").replace(")", ""),
            f"{up} {city_en(city).upper()} BRANCH"[:35],
            up.replace(".", "")[:35],
            full.lower(),
        )
    if ctype == "individual":
        return (full,) * 7
    fw = full.replace("(", "（").replace(")", "）")
    if fw == full:
        fw = full.replace("集团有限公司", "（集团）有限公司") if "集团有限公司" in full else full
    treasury = f"{city}市财政局国库支付中心" if ctype == "government" else full
    branch = f"{strip_suffix(full)}{city}分公司" if ctype != "government" else full
    return (full, strip_suffix(full), short, fw, branch, full, treasury)
