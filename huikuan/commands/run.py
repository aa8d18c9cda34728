"""`huikuan run`: run the daily job (ingest → dbt build → publish) in this process on this instance."""

from __future__ import annotations

import os

HELP = "run the daily job once: ingest new landing files, build the warehouse, publish a snapshot"


def add_arguments(p) -> None:
    p.add_argument("--home", help="data directory (default: $HUIKUAN_HOME, else ./data)")
    p.add_argument("--job", default="daily_job", help="job to run (default: daily_job)")


def run_job(job: str = "daily_job") -> bool:
    """Execute `job` in process against the instance of $HUIKUAN_HOME; True when it succeeded."""
    import dagster as dg

    from huikuan.settings import load_settings
    from pipelines.build import build_definitions
    from pipelines.instance import prepare_instance

    settings = load_settings().ensure_dirs()
    prepare_instance(settings)
    defs = build_definitions()
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False)
    if not result.success:
        from huikuan.alerts import raise_alert

        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        errors = [
            e.event_specific_data.error.message.strip()
            for e in result.all_events
            if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
        ]
        raise_alert(
            settings,
            f"huikuan: {job} failed (run {result.run_id})",
            f"Failed steps: {', '.join(failed) or 'unknown'}\n\n" + "\n\n".join(errors)[:5000]
            + "\n\nThe previously published snapshot stays in place.",
        )
    return result.success


def run(args) -> int:
    if args.home:
        os.environ["HUIKUAN_HOME"] = args.home
    ok = run_job(args.job)
    from huikuan.settings import load_settings

    settings = load_settings()
    if ok:
        print(f"{args.job} succeeded; dashboard data published under {settings.published_dir}")
        return 0
    print(f"{args.job} failed; the previous snapshot (if any) stays published. See the Dagster run log.")
    return 1
