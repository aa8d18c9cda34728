"""Company-name normalisation and fuzzy payer matching."""

import pytest

from huikuan.reconcile.names import NameIndex, normalize_company_name, similarity


@pytest.mark.parametrize(
    "variant",
    [
        "北京华建工程有限公司",
        "北京华建工程有限责任公司",
        "北京华建工程股份有限公司",
        "北京华建工程(集团)有限公司",
        "北京华建工程（集团）有限公司",
        "北京华建工程集团有限公司",
        "北京华建工程有限公司上海分公司",
        "北京华建工程有限公司第三项目部",
        "北京 华建 工程 有限公司",
        "北京华建工程公司",
        "北京华建工程",
    ],
)
def test_chinese_variants_normalise_to_one_name(variant):
    assert normalize_company_name(variant) == "北京华建工程"


@pytest.mark.parametrize(
    "variant",
    ["ACME Engineering Co., Ltd.", "acme engineering company limited", "ＡＣＭＥ　ＥＮＧＩＮＥＥＲＩＮＧ　ＬＴＤ",
     "Acme Engineering Limited", "ACME ENGINEERING CO LTD"],
)
def test_english_variants_normalise_to_one_name(variant):
    assert normalize_company_name(variant) == "acmeengineering"


def test_common_abbreviation_china():
    assert normalize_company_name("中国华冶科工集团有限公司") == normalize_company_name("中华冶科工有限公司")


def test_normalise_handles_blank():
    assert normalize_company_name(None) == ""
    assert normalize_company_name("  ") == ""


def test_similarity_bounds():
    assert similarity("北京华建工程", "北京华建工程") == 1.0
    assert similarity("", "x") == 0.0
    assert 0.86 < similarity("北京华建工程", "北京华建工") < 1.0
    assert similarity("北京华建工程", "上海申通物流") < 0.5


def test_fuzzy_match_picks_a_clear_winner_only():
    idx = NameIndex({
        "C1": ["北京华建工程有限公司"],
        "C2": ["上海申通物流有限公司"],
        "C3": ["深圳前海数据科技有限公司"],
        "C4": ["深圳前海数据服务有限公司"],
    })
    assert idx.lookup("北京华建工程(集团)有限公司")[0] == {"C1"}
    # A typo'd name still reaches its customer...
    hit = idx.fuzzy(normalize_company_name("北京市华建工程有限公司"), min_score=0.86, margin=0.05)
    assert [c for c, _ in hit] == ["C1"]
    # ...but a name between two customers is ambiguous, and an unknown one finds nobody.
    hit = idx.fuzzy(normalize_company_name("深圳前海数据有限公司"), min_score=0.86, margin=0.05)
    assert sorted(c for c, _ in hit) == ["C3", "C4"]
    assert idx.fuzzy(normalize_company_name("广州白云机场"), min_score=0.86, margin=0.05) == []


def test_short_names_reach_the_full_name():
    idx = NameIndex({"C1": ["北京市华建工程有限责任公司"], "C2": ["上海申通物流有限公司"]})
    for short in ("北京华建", "华建北京", "申通物流"):
        hit = idx.fuzzy(normalize_company_name(short), min_score=0.86, margin=0.05)
        assert len(hit) == 1, short
    assert similarity("北京华建", "北京市华建工程") > 0.86
