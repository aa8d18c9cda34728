{#- Custom schema names are used as-is (staging, intermediate, marts, seeds), not prefixed with the
    target schema, so analysts and the dashboard find marts.ar_aging under one stable name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
