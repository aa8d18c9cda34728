{#- The relation ml.invoice_predictions written by the ML scoring step, or none before it has run.
    Marts that use it are tagged `ml_enriched` and built after scoring. -#}
{% macro ml_predictions_relation() %}
    {%- if execute -%}
        {{ return(adapter.get_relation(database=target.database, schema='ml', identifier='invoice_predictions')) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}
