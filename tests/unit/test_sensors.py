"""Sensors request one run per change: new landing files, new entries in the operational store."""

import dagster as dg

from huikuan import opstore
from pipelines.sensors import landing_sensor, ops_store_sensor


def _tick(sensor, cursor=None):
    ctx = dg.build_sensor_context(cursor=cursor)
    result = sensor(ctx)
    return result, ctx.cursor


def test_landing_sensor_triggers_once_per_new_file(home):
    landing = home / "landing"
    landing.mkdir()
    result, cursor = _tick(landing_sensor)
    assert isinstance(result, dg.SkipReason)
    (landing / "invoices.csv").write_text("invoice_no\n", encoding="utf-8")
    result, cursor = _tick(landing_sensor, cursor)
    assert isinstance(result, dg.RunRequest) and result.run_key.startswith("landing-")
    again, cursor = _tick(landing_sensor, cursor)
    assert isinstance(again, dg.SkipReason)  # the same file does not trigger twice
    (landing / "bank.sta").write_text(":20:X\n", encoding="utf-8")
    second, _ = _tick(landing_sensor, cursor)
    assert isinstance(second, dg.RunRequest) and second.run_key != result.run_key


def test_ops_store_sensor_triggers_on_new_entries(home):
    ops = home / "ops" / "ops.sqlite"
    opstore.record_note(ops, text="called", recorded_by="li", invoice_no="INV-1")
    first, cursor = _tick(ops_store_sensor)
    assert isinstance(first, dg.SkipReason)  # first tick only sets the watermark
    quiet, cursor = _tick(ops_store_sensor, cursor)
    assert isinstance(quiet, dg.SkipReason)
    opstore.record_promise(ops, invoice_no="INV-1", promised_date="2026-07-15", recorded_by="li")
    result, cursor = _tick(ops_store_sensor, cursor)
    assert isinstance(result, dg.RunRequest) and "promises_to_pay" in result.tags["huikuan/ops_tables"]
    quiet, _ = _tick(ops_store_sensor, cursor)
    assert isinstance(quiet, dg.SkipReason)
