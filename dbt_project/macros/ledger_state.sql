{#- Incremental marts fed by the AR ledger (fct_ar_daily, ar_aging_monthly, int_kpi_monthly_inputs,
    kpi_monthly) on DuckDB.

    Each keeps a copy of int_ar_ledger_state as it was when the mart was last built
    (intermediate.<mart>__ledger_state). Before an incremental build, `ledger_reopen_periods`
    compares the current fingerprints with that copy: the earliest date whose fact count or hash
    sum differs, among the kinds of facts the mart reads, is the first date whose figures can
    differ, so every period on or after it is deleted, together with periods after the as-of date
    (the as-of var moved back); the log names that date. The model then
    recomputes only the periods after the latest one left (`ledger_periods_after`), and
    `ledger_state_save` stores the new copy once the build succeeded. A change goes unseen only if
    it leaves both the count and the 128-bit sum of 64-bit row hashes of its date unchanged; the
    result equals a full refresh (tests/dbt checks it, late payment included).
    Spark builds these marts as plain tables (see the models' config). -#}

{% macro ledger_state_copy(relation) -%}
    {%- set state = ref('int_ar_ledger_state') -%}
    {{- return(api.Relation.create(
        database=state.database, schema=state.schema, identifier=relation.identifier ~ '__ledger_state')) -}}
{%- endmacro %}


{% macro ledger_reopen_periods(period_column, ignored_kinds=[]) -%}
    {%- if is_incremental() -%}
        {%- set copy = ledger_state_copy(this) -%}
        {%- set saved = adapter.get_relation(database=copy.database, schema=copy.schema, identifier=copy.identifier) -%}
        {%- set saved_columns = adapter.get_columns_in_relation(saved) | map(attribute='name') | map('lower') | list
            if saved is not none else [] -%}
        {%- if 'state_kind' not in saved_columns -%}
            {#- no copy yet, or one saved before facts were kept per kind: recompute everything -#}
            {%- do log(this.identifier ~ ': no saved ledger state in this form, recomputing every period', info=True) -%}
            delete from {{ this }}
        {%- else -%}
            {%- set changed_from -%}
                select min(coalesce(current_state.state_date, saved.state_date))
                from {{ ref('int_ar_ledger_state') }} as current_state
                full outer join {{ saved }} as saved
                    on current_state.state_date = saved.state_date
                    and current_state.state_kind = saved.state_kind
                where (current_state.state_date is null
                        or saved.state_date is null
                        or current_state.facts <> saved.facts
                        or current_state.fingerprint <> saved.fingerprint)
                    {%- if ignored_kinds %}
                    and coalesce(current_state.state_kind, saved.state_kind) not in ('{{ ignored_kinds | join("', '") }}')
                    {%- endif %}
            {%- endset -%}
            {%- set reopen_from = run_query(changed_from).columns[0].values()[0] if execute else none -%}
            {%- do log(this.identifier ~ (
                ': ledger unchanged, adding the periods after the last one kept' if reopen_from is none
                else ': ledger changed from ' ~ reopen_from ~ ', recomputing the periods from then'), info=True) -%}
            delete from {{ this }}
            where {{ period_column }} > {{ as_of_date() }}
            {%- if reopen_from is not none %}
                or {{ period_column }} >= cast('{{ reopen_from }}' as date)
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- Condition keeping the periods an incremental build recomputes: those after the latest period
    the reopening left in the table (all of them on a full build). -#}
{% macro ledger_periods_after(period_expr, period_column) -%}
    {%- if is_incremental() -%}
        {{ period_expr }} > (select coalesce(max({{ period_column }}), cast('1900-01-01' as date)) from {{ this }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{% macro ledger_state_save() -%}
    {%- set copy = ledger_state_copy(this) -%}
    drop table if exists {{ copy }};
    create table {{ copy }} as select * from {{ ref('int_ar_ledger_state') }}
{%- endmacro %}


{#- Config of a ledger mart: incremental with the hooks above on DuckDB, a table on Spark.
    `ignored_kinds`: kinds of facts (int_ar_ledger_state.state_kind) the mart does not read, whose
    changes therefore reopen nothing. -#}
{% macro ledger_incremental_config(period_column, ignored_kinds=[]) -%}
    {%- if target.type == 'spark' -%}
        {{ config(materialized='table') }}
    {%- else -%}
        {{ config(
            materialized='incremental',
            on_schema_change='fail',
            pre_hook="{{ ledger_reopen_periods('" ~ period_column ~ "', " ~ (ignored_kinds | tojson) ~ ") }}",
            post_hook="{{ ledger_state_save() }}"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- 64-bit hash of a row's values (list of column expressions), dispatched per adapter. -#}
{% macro huikuan_row_hash(columns) -%}
    {{ return(adapter.dispatch('huikuan_row_hash', 'huikuan')(columns)) }}
{%- endmacro %}

{% macro default__huikuan_row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__huikuan_row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
