"""Settings from huikuan.yml and HUIKUAN_* variables: values are checked when loaded."""

import pytest

from huikuan.settings import load_settings


def test_dashboard_memory_from_file_and_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("HUIKUAN_DASHBOARD_MEMORY", raising=False)
    assert load_settings(tmp_path).dashboard_memory == "4GB"
    (tmp_path / "huikuan.yml").write_text("dashboard_memory: 512MB\n", encoding="utf-8")
    assert load_settings(tmp_path).dashboard_memory == "512MB"
    monkeypatch.setenv("HUIKUAN_DASHBOARD_MEMORY", " 1.5GiB ")
    assert load_settings(tmp_path).dashboard_memory == "1.5GiB"


@pytest.mark.parametrize("bad", ["lots", "4", "4GB'; drop table x; --", "-1GB"])
def test_dashboard_memory_must_be_a_size(tmp_path, monkeypatch, bad):
    monkeypatch.setenv("HUIKUAN_DASHBOARD_MEMORY", bad)
    with pytest.raises(ValueError, match="dashboard_memory must be a size"):
        load_settings(tmp_path)
