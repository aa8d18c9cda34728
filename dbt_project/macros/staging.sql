{#- Staging of the large extracts (invoices, events, milestones, contracts, projects, bank lines)
    as tables kept up to date incrementally on DuckDB: most models and data tests read them, and a
    view would repeat the rename, cast and latest-version ranking over the whole raw table on every
    read.

    Raw tables are append-only (a re-delivered key arrives as a newer version), so an incremental
    build ranks only the rows loaded after the newest one the table holds (`staging_new_loads`) and
    replaces the stored version of each of their keys (delete+insert on the key): the newest version
    of a key is always among the newest loads. The one exception is a corrected resubmission, which
    deletes the rows of the file it replaces (huikuan.ingest.load): when a stored row comes from a
    file no longer in the raw table, `staging_drop_superseded` empties the table and the build
    recomputes it from every raw row. The result equals a full refresh (tests/dbt).
    Spark builds these models as plain tables (parquet tables have no delete). -#}

{% macro staging_config(source_name, table_name, unique_key) -%}
    {%- if target.type == 'spark' -%}
        {{ config(materialized='table') }}
    {%- else -%}
        {{ config(
            materialized='incremental',
            incremental_strategy='delete+insert',
            unique_key=unique_key,
            on_schema_change='fail',
            pre_hook="{{ staging_drop_superseded(source('" ~ source_name ~ "', '" ~ table_name ~ "')) }}"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- Filter of the source CTE: on an incremental build, only rows loaded after the newest stored one. -#}
{% macro staging_new_loads() -%}
    {%- if is_incremental() -%}
    where loaded_at > (select coalesce(max(loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) from {{ this }})
    {%- endif -%}
{%- endmacro %}


{% macro staging_drop_superseded(source_relation) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exists (
            select file_hash from {{ this }}
            except
            select file_hash from {{ source_relation }}
        )
    {%- endif -%}
{%- endmacro %}
