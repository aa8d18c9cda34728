{#- Rank of each row among the versions of its key: 1 is the version to keep. When later extracts
    re-deliver a key, the most recently loaded version wins (ties: later file, later row). -#}
{% macro latest_version_rank(key_columns) %}
    row_number() over (
        partition by {{ key_columns }}
        order by loaded_at desc, source_file desc, source_row desc
    )
{%- endmacro %}
