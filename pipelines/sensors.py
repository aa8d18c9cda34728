"""Sensors: a new or changed landing file starts the daily job once (cursor + run_key)."""


import hashlib
import json

import dagster as dg

from huikuan.settings import load_settings


def landing_fingerprint(landing_dir) -> dict[str, str]:
    """Relative path → size:mtime for every file in the landing folder (cheap; content hashing is ingest's)."""
    out = {}
    if landing_dir.exists():
        for p in sorted(landing_dir.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                st = p.stat()
                out[str(p.relative_to(landing_dir))] = f"{st.st_size}:{st.st_mtime_ns}"
    return out


@dg.sensor(job_name="daily_job", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext):
    """Request a run when files appear or change in the landing folder."""
    fp = landing_fingerprint(load_settings().landing_dir)
    seen = json.loads(context.cursor) if context.cursor else {}
    new = sorted(k for k, v in fp.items() if seen.get(k) != v)
    if not new:
        return dg.SkipReason("no new landing files")
    digest = hashlib.sha256(json.dumps({k: fp[k] for k in new}, sort_keys=True).encode()).hexdigest()[:16]
    context.update_cursor(json.dumps(fp, sort_keys=True))
    return dg.RunRequest(run_key=f"landing-{digest}", tags={"huikuan/new_files": str(len(new))})


def ops_store_watermark(ops_path) -> dict[str, int]:
    """Highest row id per operational table (rows are append-only, so a higher id means new entries)."""
    from contextlib import closing

    from huikuan import opstore

    if not ops_path.exists():
        return {}
    with closing(opstore.connect(ops_path)) as con:
        return {t: con.execute(f"SELECT coalesce(max(rowid), 0) FROM {t}").fetchone()[0] for t in opstore.TABLES}


@dg.sensor(job_name="daily_job", minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED)
def ops_store_sensor(context: dg.SensorEvaluationContext):
    """Rebuild when people record decisions, promises, disputes or notes, so the marts reflect them."""
    mark = ops_store_watermark(load_settings().ops_path)
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(t for t, v in mark.items() if v > seen.get(t, 0) and t != "dunning_log")
    context.update_cursor(json.dumps(mark, sort_keys=True))
    if not changed or not seen:
        return dg.SkipReason("no new entries in the operational store" if seen else "cursor initialised")
    key = hashlib.sha256(json.dumps(mark, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"ops-{key}", tags={"huikuan/ops_tables": ",".join(changed)})


@dg.run_failure_sensor(name="run_failure_alert_sensor", default_status=dg.DefaultSensorStatus.RUNNING)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext):
    """Alert (log, alerts.log, email) when a scheduled or sensor-started run fails."""
    from huikuan.alerts import raise_alert

    run = context.dagster_run
    raise_alert(
        load_settings(),
        f"huikuan: {run.job_name} failed (run {run.run_id})",
        (context.failure_event.message or "")
        + "\n\nThe previously published snapshot stays in place.",
    )
