"""Dashboard benchmark: build a warehouse at a given size, then time every page's queries and render.

`huikuan bench dashboard --invoices N` generates N invoices, builds them the way the daily job does
(ingest → reconcile → dbt → train and score → dbt of the scored marts → publish),
and renders each page once with empty caches (what the first visitor after a publish waits for:
every query on the fresh snapshot plus the render) and once warm. Baselines measured in the same
run: a bare `select count(*)` on the snapshot, and the render of an empty Streamlit script (the
framework's own cost); ratios are page seconds over the empty render.

`--ingested FILE` starts that build from a warehouse file that already holds the ingested extracts
(the warehouse benchmark's `ingested_N.duckdb`), so a 10 M run need not ingest again.
`--warehouse FILE` times the pages on an already built warehouse instead (published by hard link;
`built_by` and `tables` in the result say what the file held).
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

PAGES = ("overview", "aging", "worklist", "forecast", "customers", "projects", "reconciliation", "models")
AS_OF = date(2026, 6, 30)
BIG_RECONCILE_DAYS = 90


def build_instance(home: Path, generated: Path | None = None, *, invoices: int = 600, seed: int = 7,
                   as_of: date = AS_OF, ingested: Path | None = None, ml: bool = True,
                   publish_link: bool = False, reconcile_days: int = 0) -> dict[str, float]:
    """Fill `home` with a published warehouse the way the daily job builds it; returns seconds per step.

    Steps: ingest the generated extracts (or start from `ingested`, a warehouse file that already holds
    them), reconcile, build the warehouse models, train and score (`ml`), build the marts that join the
    scores, publish (`publish_link`: by hard link instead of a copy, for builds too big to hold twice on
    disk; nothing writes the file after this step)."""
    from huikuan.dbt import run_dbt
    from huikuan.ingest import ingest_paths
    from huikuan.publish import publish
    from huikuan.reconcile.warehouse import reconcile_warehouse
    from huikuan.settings import load_settings
    from pipelines.dbt.assets import DAILY_EXCLUDE, ML_ENRICHED

    os.environ.setdefault("DO_NOT_TRACK", "1")
    timings: dict[str, float] = {}
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "huikuan.yml").write_text(f"as_of_date: '{as_of.isoformat()}'\nreconcile_days: {reconcile_days}\n",
                                      encoding="utf-8")
    settings = load_settings(home).ensure_dirs()
    wh = settings.warehouse_path
    t = time.perf_counter()
    if ingested is not None:
        shutil.copyfile(ingested, wh)
        timings["copy_ingested"] = time.perf_counter() - t
    else:
        if generated is None:
            from huikuan.generate import generate

            generated = home.parent / "generated"
            generate(out=generated, invoices=invoices, seed=seed, as_of=as_of)
            timings["generate"] = time.perf_counter() - t
        shutil.copytree(Path(generated) / "landing", settings.landing_dir, dirs_exist_ok=True)
    target = home / "dbt" / "target"
    dbt_vars = {"as_of_date": as_of.isoformat()}

    def train_and_score():
        from pipelines.ml.assets import score, train

        train(settings)
        score(settings)

    # The daily job's order: reconciliation feeds the payment allocations dbt builds; the scores feed
    # the marts tagged ml_enriched (worklist ranking, expected credit loss).
    steps = (
        ("ingest", None if ingested is not None else
         lambda: ingest_paths([settings.landing_dir], wh, landing_root=settings.landing_dir)),
        ("reconcile", lambda: reconcile_warehouse(wh, settings.ops_path, write=True, since=settings.reconcile_since)),
        ("dbt", lambda: run_dbt(["build", "--exclude", ML_ENRICHED, DAILY_EXCLUDE] if ml else
                                ["build", "--exclude", DAILY_EXCLUDE], wh, target_path=target, vars=dbt_vars)),
        ("ml", train_and_score if ml else None),
        ("dbt_ml_enriched", (lambda: run_dbt(["build", "--select", ML_ENRICHED, "--exclude", DAILY_EXCLUDE], wh,
                                             target_path=target, vars=dbt_vars)) if ml else None),
        ("publish", lambda: publish(wh, settings.published_dir, link=publish_link)),
    )
    for name, step in steps:
        if step is None:
            continue
        t = time.perf_counter()
        step()
        timings[name] = time.perf_counter() - t
        print(f"build_instance: {name} {timings[name]:.1f} s", flush=True)
    return timings


def _render(page: str | None, user: dict) -> float:
    """Seconds for one AppTest run of the app on `page` as `user`; raises if the page failed."""
    from streamlit.testing.v1 import AppTest

    from dashboards.state import USER_KEY
    from huikuan.settings import PROJECT_ROOT

    at = AppTest.from_file(str(PROJECT_ROOT / "dashboards" / "app.py"), default_timeout=600)
    at.session_state[USER_KEY] = user
    at.query_params["lang"] = "zh"
    if page:
        at.switch_page(f"views/{page}.py")
    t = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - t
    if at.exception:
        raise RuntimeError(f"page {page} failed: {at.exception[0].message}")
    return seconds


def _empty_render() -> float:
    from streamlit.testing.v1 import AppTest

    def empty():
        import streamlit as st

        st.title("·")

    at = AppTest.from_function(empty)
    t = time.perf_counter()
    at.run()
    return time.perf_counter() - t


def _publish_existing(home: Path, warehouse: Path) -> dict[str, float]:
    from huikuan.publish import publish
    from huikuan.settings import load_settings

    t = time.perf_counter()
    publish(Path(warehouse), load_settings(home).ensure_dirs().published_dir, link=True)
    return {"publish": time.perf_counter() - t}


def _row_counts(snapshot: Path) -> dict[str, int]:
    """Rows of the tables the pages read most, so a result says what it was measured on."""
    import duckdb

    counts = {}
    with duckdb.connect(str(snapshot), read_only=True) as con:
        for table in ("marts.fct_invoice", "marts.ar_aging", "marts.ar_aging_monthly", "marts.collections_worklist",
                      "marts.kpi_monthly", "marts.fct_payment_application", "ml.invoice_predictions"):
            try:
                counts[table] = int(con.execute(f"select count(*) from {table}").fetchone()[0])
            except duckdb.CatalogException:
                counts[table] = 0
    return counts


def run(invoices: int, workdir: Path, warehouse: str | None = None, ingested: str | None = None) -> dict:
    import duckdb

    from dashboards import data
    from dashboards.auth import User
    from huikuan.publish import current_snapshot

    home = Path(workdir) / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if warehouse:
        build = _publish_existing(home, Path(warehouse))
        built_by = f"existing warehouse {warehouse} (published by hard link)"
    else:
        shutil.rmtree(Path(workdir) / "generated", ignore_errors=True)
        # From an ingested file means a big run: publish by hard link (the disk holds one copy only) and
        # reconcile the last quarter's receipts, as a large instance is configured (docs/reconciliation.md).
        build = build_instance(home, invoices=invoices, ingested=Path(ingested) if ingested else None,
                               publish_link=bool(ingested), reconcile_days=BIG_RECONCILE_DAYS if ingested else 0)
        built_by = ("ingested file → " if ingested else "generate → ingest → ") + \
            "reconcile → dbt build → train and score → dbt build of the scored marts → publish"
    old_home = os.environ.get("HUIKUAN_HOME")
    os.environ["HUIKUAN_HOME"] = str(home)
    try:
        snapshot = current_snapshot(home / "published")
        t = time.perf_counter()
        with duckdb.connect(str(snapshot), read_only=True) as con:
            rows = con.execute("select count(*) from marts.fct_invoice").fetchone()[0]
        count_seconds = time.perf_counter() - t
        _empty_render()  # warm the imports once, so no page pays for them
        empty = min(_empty_render() for _ in range(3))
        cfo = User("bench", "Bench", "cfo").to_session()
        _render("aging", cfo)  # first AppTest run imports the dashboard modules
        cold, warm = {}, {}
        for page in PAGES:
            data.clear_caches()
            cold[page] = round(_render(page, cfo), 4)
            warm[page] = round(_render(page, cfo), 4)
    finally:
        if old_home is None:
            os.environ.pop("HUIKUAN_HOME", None)
        else:
            os.environ["HUIKUAN_HOME"] = old_home
    return {
        "invoices": invoices,
        "built_by": built_by,
        "tables": _row_counts(snapshot),
        "fct_invoice_rows": int(rows),
        "snapshot_mb": round(snapshot.stat().st_size / 1e6, 1),
        "pages": cold,
        "pages_warm": warm,
        "slowest_page": max(cold, key=cold.get),
        "slowest_seconds": max(cold.values()),
        "baseline": {"count_star_seconds": round(count_seconds, 4), "empty_render_seconds": round(empty, 4)},
        "ratio_to_empty_render": {p: round(s / empty, 1) for p, s in cold.items()},
        "build_seconds": {k: round(v, 2) for k, v in build.items()},
        "reconcile_days": BIG_RECONCILE_DAYS if ingested else 0,
    }
