"""The worklist shows each invoice's top factors (ML explanations), translated into Chinese and English."""

from __future__ import annotations

import duckdb

from dashboards.i18n import TEXT, format_factors, t
from huikuan.publish import publish
from huikuan.settings import load_settings
from models_ml.features import HISTORY_COLUMNS, feature_set
from tests.dashboard.conftest import app_as, clear_caches


def test_every_model_feature_has_a_chinese_and_english_name():
    import pandas as pd

    for name in feature_set(pd.DataFrame(columns=HISTORY_COLUMNS)).columns:
        entry = TEXT.get(f"feat_{name}")
        assert entry and entry["zh"] and entry["en"] and entry["zh"] != entry["en"], name


def test_format_factors_translates_names_and_signs_effects():
    line = format_factors(["customer_type", "amount_log", None], [16.04, -8.83, None], "days", "zh")
    assert line == "客户类型 +16.0天 · 发票金额 −8.8天"
    assert format_factors(["cust_n_disputes"], [2.5], "pp", "en") == "Customer: disputes so far +2.5 pp"
    assert format_factors(["not_a_feature"], [1.0], "days", "en") == "not_a_feature +1.0 d"


def _add_factors(home) -> None:
    """The hand-made snapshot's worklist, with factor columns as the scoring step writes them."""
    wh = load_settings(home).warehouse_path
    with duckdb.connect(str(wh)) as con:
        for prefix, unit, names in (("delay_factor", "days", ("customer_type", "amount_log", "cust_mean_days_late")),
                                    ("risk_factor", "pp", ("cust_n_disputes", "credit_utilisation", "region"))):
            for i, name in enumerate(names, start=1):
                sign = 1 if i != 2 else -1
                con.execute(f"alter table marts.collections_worklist add column {prefix}_{i} varchar default '{name}'")
                con.execute(f"alter table marts.collections_worklist add column {prefix}_{i}_{unit} double "
                            f"default {sign * (4 - i) * 1.5}")
    publish(wh, home / "published")
    clear_caches()


def test_worklist_page_shows_translated_factors(fixture_home):
    at = app_as("collector", "worklist", "en")
    at.run()
    assert t("delay_factors", "en") not in at.dataframe[0].value.columns  # not scored: no column
    _add_factors(fixture_home)
    for lang, expected_delay, expected_risk in (
        ("en", "Customer type +4.5 d · Invoice amount −3.0 d · Customer: mean days late +1.5 d",
         "Customer: disputes so far +4.5 pp · Credit utilisation −3.0 pp · Region +1.5 pp"),
        ("zh", "客户类型 +4.5天 · 发票金额 −3.0天 · 客户平均逾期天数 +1.5天",
         "客户争议次数 +4.5个百分点 · 信用额度使用率 −3.0个百分点 · 区域 +1.5个百分点"),
    ):
        at = app_as("collector", "worklist", lang)
        at.run()
        assert not at.exception
        table = at.dataframe[0].value
        assert set(table[t("delay_factors", lang)]) == {expected_delay}
        assert set(table[t("risk_factors", lang)]) == {expected_risk}
        assert any(t("factors_help", lang) in c.value for c in at.caption)
