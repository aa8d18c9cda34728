-- Point-in-time payment features, one row per receivable invoice and decision date: the issue date
-- (decision_kind = 'issue', the rows models learn from) and, for the items open at
-- var('as_of_date'), the day after it (decision_kind = 'open_item', the rows scored that day).
-- Every history feature uses only facts dated strictly before the decision date, each at the date
-- it became known: a payment at its settlement date, an item turning overdue at its due date, a
-- dispute at its first 'disputed' event, 90 days past due at that day.
--
-- The SQL rendering of models_ml/features.py (same names, same values: tests/ml/test_feature_mart.py)
-- in portable SQL (DuckDB and Spark): no ASOF JOIN. An as-of lookup is a union of the key's events
-- and its decisions ordered by date, decisions first on a tie; a running count of events then gives,
-- at each decision, how many events happened strictly before it, and the event with that sequence
-- number carries the state known at the decision.
{{ config(materialized='table', schema='marts') }}

{%- set paid_tolerance = 0.005 %}  {#- models_ml.data.PAID_TOLERANCE #}
{%- set after_due_days = 90 %}  {#- models_ml.features.DEFAULT_AFTER_DUE_DAYS #}
{%- set running = 'rows between unbounded preceding and current row' %}
{%- set settled_milestone_shares = ['advance', 'acceptance', 'final', 'retention'] %}  {#- features.SETTLED_MILESTONE_SHARES #}
{%- set settled_mix = ['amount_log', 'terms_days', 'share_advance', 'share_acceptance', 'share_final', 'share_retention'] %}

with as_of as (

    select {{ as_of_date() }} as as_of_date

),

invoices as (

    select * from {{ ref('stg_invoicing__invoices') }}

),

settlements as (

    select invoice_no, settled_date, gross_amount_rpt
    from {{ ref('fct_invoice') }}

),

first_disputes as (

    select invoice_no, min(cast(event_at as date)) as first_dispute_date
    from {{ ref('stg_invoicing__invoice_events') }}
    where event_type = 'disputed'
    group by invoice_no

),

-- Receivables as models_ml.data.history_from_warehouse reads them: no credit notes, cancellations
-- or non-positive amounts; paid when the warehouse settled it (else when the ERP cleared it in
-- full, within the short-payment tolerance); amounts in the reporting currency.
history as (

    select
        invoices.invoice_no,
        invoices.customer_id,
        invoices.project_id,
        customers.salesperson_id,
        invoices.issue_date,
        coalesce(invoices.due_date, invoices.issue_date) as due_date,
        cast(case when settlements.gross_amount_rpt > 0 then settlements.gross_amount_rpt
                  else invoices.gross_amount end as double) as amount,
        coalesce(
            settlements.settled_date,
            case when invoices.cleared_date is not null
                      and coalesce(invoices.cleared_amount, 0) >= invoices.gross_amount * (1 - {{ paid_tolerance }})
                 then invoices.cleared_date end
        ) as paid_date,
        first_disputes.first_dispute_date,
        coalesce(invoices.invoice_type, 'standard') as invoice_type,
        milestones.milestone_type,
        invoices.currency,
        customers.customer_type,
        customers.region,
        customers.industry,
        cast(customers.credit_limit as double) as credit_limit,
        cast(customers.payment_terms_days as double) as customer_terms_days,
        cast(projects.contract_value as double) as project_contract_value,
        projects.start_date as project_start_date,
        salespeople.team as salesperson_team
    from invoices
    left join settlements
        on invoices.invoice_no = settlements.invoice_no
    left join first_disputes
        on invoices.invoice_no = first_disputes.invoice_no
    left join {{ ref('stg_erp__customers') }} as customers
        on invoices.customer_id = customers.customer_id
    left join {{ ref('stg_erp__projects') }} as projects
        on invoices.project_id = projects.project_id
    left join {{ ref('stg_erp__salespeople') }} as salespeople
        on customers.salesperson_id = salespeople.salesperson_id
    left join {{ ref('stg_erp__payment_milestones') }} as milestones
        on invoices.milestone_id = milestones.milestone_id
    cross join as_of
    where coalesce(invoices.invoice_type, 'standard') <> 'credit_note'
        and coalesce(invoices.status, '') <> 'cancelled'
        and invoices.gross_amount > 0
        and invoices.issue_date is not null
        and invoices.issue_date <= as_of.as_of_date

),

decisions as (

    select
        history.*,
        'issue' as decision_kind,
        history.issue_date as decision_date
    from history

    union all

    select
        history.*,
        'open_item' as decision_kind,
        cast({{ dbt.dateadd('day', 1, 'as_of.as_of_date') }} as date) as decision_date
    from history
    cross join as_of
    where history.paid_date is null or history.paid_date > as_of.as_of_date

),

{#- ---- settlement record per key: running and trailing statistics in settlement order ---- #}
{%- set settlement_keys = {'customer_id': 'cust', 'salesperson_id': 'sp', 'project_id': 'proj'} %}
{%- for key, prefix in settlement_keys.items() %}

{{ prefix }}_settled as (

    select
        {{ key }} as key_id,
        paid_date as event_date,
        cast({{ days_between('issue_date', 'paid_date') }} as double) as days_to_pay,
        cast({{ days_between('due_date', 'paid_date') }} as double) as days_late,
        {%- if prefix == 'cust' %}
        -- the settled invoice mix (models_ml.features.settled_invoice_mix)
        {{ ml_signed_log('amount') }} as mix_amount_log,
        cast({{ days_between('issue_date', 'due_date') }} as double) as mix_terms_days,
        {%- for m in settled_milestone_shares %}
        case when milestone_type = '{{ m }}' then 1.0 else 0.0 end as mix_share_{{ m }},
        {%- endfor %}
        {%- endif %}
        row_number() over (partition by {{ key }} order by paid_date, issue_date, invoice_no) as seq
    from history
    where paid_date is not null and {{ key }} is not null

),

{{ prefix }}_settled_stats as (

    select
        key_id,
        seq,
        event_date,
        avg(days_late) over (partition by key_id order by seq {{ running }}) as mean_days_late,
        avg(case when days_late > 0 then 1.0 else 0.0 end)
            over (partition by key_id order by seq {{ running }}) as late_share
        {%- if prefix == 'cust' %},
        avg(days_to_pay) over (partition by key_id order by seq {{ running }}) as mean_days_to_pay,
        {{ ml_median('days_to_pay') }}
            over (partition by key_id order by seq rows between 9 preceding and current row) as median_days_to_pay,
        {{ ml_median('days_late') }}
            over (partition by key_id order by seq rows between 9 preceding and current row) as median_days_late,
        {{ ml_median('days_late') }}
            over (partition by key_id order by seq rows between 4 preceding and current row) as median5_days_late,
        days_late as last_days_late,
        -- > 0: paying later over the last 3 invoices than over the last 12
        avg(days_late) over (partition by key_id order by seq rows between 2 preceding and current row)
            - avg(days_late) over (partition by key_id order by seq rows between 11 preceding and current row)
            as trend_days_late,
        stddev_samp(days_late)
            over (partition by key_id order by seq rows between 11 preceding and current row) as std_days_late,
        -- exponentially weighted mean, half-life 4 settlements (pandas ewm, adjust=True), over the
        -- last 200 (older weights < 2^-50). Weights 2^(seq/4) are taken relative to an anchor that
        -- keeps the exponent below 250 (no overflow): anchor a = seq mod 1000 unless the 200-row
        -- frame crosses a multiple of 1000, then b = (seq + 500) mod 1000; the anchor cancels in the ratio.
        case when mod(seq, 1000) >= 199
            then sum(days_late * power(2.0, mod(seq, 1000) / 4.0))
                    over (partition by key_id order by seq rows between 199 preceding and current row)
                 / sum(power(2.0, mod(seq, 1000) / 4.0))
                    over (partition by key_id order by seq rows between 199 preceding and current row)
            else sum(days_late * power(2.0, mod(seq + 500, 1000) / 4.0))
                    over (partition by key_id order by seq rows between 199 preceding and current row)
                 / sum(power(2.0, mod(seq + 500, 1000) / 4.0))
                    over (partition by key_id order by seq rows between 199 preceding and current row)
        end as ewm_days_late,
        {%- for c in settled_mix %}
        avg(mix_{{ c }}) over (partition by key_id order by seq {{ running }}) as mean_{{ c }}{% if not loop.last %},{% endif %}
        {%- endfor %}
        {%- endif %}
    from {{ prefix }}_settled

),

{{ prefix }}_settled_known as (

    -- per decision: the number of the key's settlements dated strictly before it
    select invoice_no, decision_kind, key_id, settled_before
    from (
        select
            invoice_no,
            decision_kind,
            key_id,
            is_decision,
            sum(1 - is_decision) over (partition by key_id order by event_date, is_decision desc {{ running }})
                as settled_before
        from (
            select key_id, event_date, 0 as is_decision,
                cast(null as {{ dbt.type_string() }}) as invoice_no,
                cast(null as {{ dbt.type_string() }}) as decision_kind
            from {{ prefix }}_settled
            union all
            select {{ key }}, decision_date, 1, invoice_no, decision_kind
            from decisions
            where {{ key }} is not null
        ) as timeline
    ) as counted
    where is_decision = 1

),

{%- endfor %}

{#- ---- open position per key: running sums of the changes, each at the date it is known ---- #}

cust_position_changes as (

    -- issued: +amount, +1 invoice
    select customer_id as key_id, issue_date as event_date, amount as d_open, 1.0 as d_issued,
        0.0 as d_overdue, 0.0 as d_overdue_amount, 0.0 as d_overdue_due_day, 0.0 as d_90plus, 0.0 as d_disputes
    from history
    union all
    -- settled: -amount
    select customer_id, paid_date, -amount, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    from history where paid_date is not null
    -- turned overdue at the due date (paid on or before it: the item never counts, +1 and -1 the same day)
    union all
    select customer_id, due_date, 0.0, 0.0, 1.0, amount, cast({{ days_between("cast('1970-01-01' as date)", 'due_date') }} as double),
        0.0, 0.0
    from history
    union all
    select customer_id,
        case when paid_date > due_date then paid_date else due_date end,
        0.0, 0.0, -1.0, -amount, -cast({{ days_between("cast('1970-01-01' as date)", 'due_date') }} as double), 0.0, 0.0
    from history where paid_date is not null
    union all
    -- still unpaid {{ after_due_days }} days after due
    select customer_id, cast({{ dbt.dateadd('day', after_due_days, 'due_date') }} as date), 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0
    from history
    where paid_date is null or paid_date > cast({{ dbt.dateadd('day', after_due_days, 'due_date') }} as date)
    union all
    -- first disputed
    select customer_id, first_dispute_date, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0
    from history where first_dispute_date is not null

),

cust_position_known as (

    select invoice_no, decision_kind, open_amount, issued, overdue, overdue_amount, overdue_due_day_sum,
        seriously_late, disputes, first_event_date
    from (
        select
            invoice_no,
            decision_kind,
            is_decision,
            sum(d_open) over w as open_amount,
            sum(d_issued) over w as issued,
            sum(d_overdue) over w as overdue,
            sum(d_overdue_amount) over w as overdue_amount,
            sum(d_overdue_due_day) over w as overdue_due_day_sum,
            sum(d_90plus) over w as seriously_late,
            sum(d_disputes) over w as disputes,
            min(case when is_decision = 0 then event_date end) over w as first_event_date
        from (
            select key_id, event_date, 0 as is_decision, cast(null as {{ dbt.type_string() }}) as invoice_no,
                cast(null as {{ dbt.type_string() }}) as decision_kind,
                d_open, d_issued, d_overdue, d_overdue_amount, d_overdue_due_day, d_90plus, d_disputes
            from cust_position_changes
            union all
            select customer_id, decision_date, 1, invoice_no, decision_kind, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
            from decisions
        ) as timeline
        window w as (partition by key_id order by event_date, is_decision desc {{ running }})
    ) as summed
    where is_decision = 1

),

proj_billed_known as (

    -- invoices and amount billed on the project strictly before the decision
    select invoice_no, decision_kind, issued, billed
    from (
        select
            invoice_no,
            decision_kind,
            is_decision,
            sum(d_issued) over (partition by key_id order by event_date, is_decision desc {{ running }}) as issued,
            sum(d_billed) over (partition by key_id order by event_date, is_decision desc {{ running }}) as billed
        from (
            select project_id as key_id, issue_date as event_date, 0 as is_decision,
                cast(null as {{ dbt.type_string() }}) as invoice_no,
                cast(null as {{ dbt.type_string() }}) as decision_kind,
                1.0 as d_issued, amount as d_billed
            from history
            where project_id is not null
            union all
            select project_id, decision_date, 1, invoice_no, decision_kind, 0.0, 0.0
            from decisions
            where project_id is not null
        ) as timeline
    ) as summed
    where is_decision = 1

),

holidays_in_terms as (

    select decisions.invoice_no, decisions.decision_kind, count(*) as holiday_days
    from decisions
    inner join {{ ref('ml_holiday_calendar') }} as calendar
        on calendar.calendar_date >= decisions.issue_date
        and calendar.calendar_date <= decisions.due_date
    group by decisions.invoice_no, decisions.decision_kind

),

spring_festival as (

    {{ ml_spring_festival_dates() }}

),

festival_distance as (

    -- the nearest Spring Festival to the due date: the last one before it or the first on/after it
    select
        decisions.invoice_no,
        decisions.decision_kind,
        max(case when festivals.festival_date < decisions.due_date then festivals.festival_date end) as festival_before,
        min(case when festivals.festival_date >= decisions.due_date then festivals.festival_date end) as festival_after,
        sum(case when festivals.festival_date >= decisions.decision_date
                  and festivals.festival_date <= cast({{ dbt.dateadd('day', 60, 'decisions.due_date') }} as date)
                 then 1 else 0 end) as festivals_in_window
    from decisions
    cross join spring_festival as festivals
    group by decisions.invoice_no, decisions.decision_kind

),

joined as (

    select
        d.*,
        {{ days_between("cast('1970-01-01' as date)", 'd.decision_date') }} as decision_day,
        cs.mean_days_to_pay as c_mean_days_to_pay,
        cs.median_days_to_pay as c_median_days_to_pay,
        cs.mean_days_late as c_mean_days_late,
        cs.median_days_late as c_median_days_late,
        cs.late_share as c_late_share,
        cs.last_days_late as c_last_days_late,
        cs.trend_days_late as c_trend_days_late,
        cs.std_days_late as c_std_days_late,
        cs.median5_days_late as c_median5_days_late,
        cs.ewm_days_late as c_ewm_days_late,
        cs.event_date as c_last_settled_date,
        {%- for c in settled_mix %}
        cs.mean_{{ c }} as c_settled_mean_{{ c }},
        {%- endfor %}
        coalesce(ck.settled_before, 0) as c_settled,
        coalesce(sk.settled_before, 0) as s_settled,
        ss.mean_days_late as s_mean_days_late,
        ss.late_share as s_late_share,
        coalesce(pk.settled_before, 0) as p_settled,
        ps.mean_days_late as p_mean_days_late,
        greatest(coalesce(pos.open_amount, 0), 0) as c_open_amount,
        coalesce(pos.issued, 0) as c_issued,
        coalesce(pos.overdue, 0) as c_overdue,
        coalesce(pos.overdue_amount, 0) as c_overdue_amount,
        pos.overdue_due_day_sum as c_overdue_due_day_sum,
        coalesce(pos.seriously_late, 0) as c_90plus,
        coalesce(pos.disputes, 0) as c_disputes,
        pos.first_event_date as c_first_event_date,
        coalesce(pb.issued, 0) as p_issued,
        coalesce(pb.billed, 0) as p_billed,
        coalesce(hol.holiday_days, 0) as holiday_days,
        fd.festival_before,
        fd.festival_after,
        fd.festivals_in_window
    from decisions as d
    left join cust_settled_known as ck
        on d.invoice_no = ck.invoice_no and d.decision_kind = ck.decision_kind
    left join cust_settled_stats as cs
        on ck.key_id = cs.key_id and ck.settled_before = cs.seq
    left join sp_settled_known as sk
        on d.invoice_no = sk.invoice_no and d.decision_kind = sk.decision_kind
    left join sp_settled_stats as ss
        on sk.key_id = ss.key_id and sk.settled_before = ss.seq
    left join proj_settled_known as pk
        on d.invoice_no = pk.invoice_no and d.decision_kind = pk.decision_kind
    left join proj_settled_stats as ps
        on pk.key_id = ps.key_id and pk.settled_before = ps.seq
    left join cust_position_known as pos
        on d.invoice_no = pos.invoice_no and d.decision_kind = pos.decision_kind
    left join proj_billed_known as pb
        on d.invoice_no = pb.invoice_no and d.decision_kind = pb.decision_kind
    left join holidays_in_terms as hol
        on d.invoice_no = hol.invoice_no and d.decision_kind = hol.decision_kind
    left join festival_distance as fd
        on d.invoice_no = fd.invoice_no and d.decision_kind = fd.decision_kind

)

select
    (select as_of_date from as_of) as as_of_date,
    invoice_no,
    decision_kind,
    decision_date,
    customer_id,
    project_id,
    salesperson_id,
    -- the invoice
    {{ ml_signed_log('amount') }} as amount_log,
    cast({{ days_between('issue_date', 'due_date') }} as double) as terms_days,
    cast(extract(month from issue_date) as double) as issue_month,
    cast(extract(month from due_date) as double) as due_month,
    cast({{ huikuan_day_of_week('issue_date') }} - 1 as double) as issue_day_of_week,
    cast(least(greatest(
        case when {{ days_between('festival_before', 'due_date') }} <= {{ days_between('due_date', 'festival_after') }}
             then {{ days_between('festival_before', 'due_date') }}
             else -{{ days_between('due_date', 'festival_after') }} end,
        -120), 120) as double) as days_due_to_spring_festival,
    case when festivals_in_window > 0 then 1.0 else 0.0 end as spring_festival_in_window,
    cast(holiday_days as double) as holiday_days_in_window,
    cast({{ days_between('due_date', 'make_date(cast(extract(year from due_date) as integer), 12, 31)') }} as double)
        as days_to_year_end,
    -- the customer's payment record: invoices settled strictly before the decision date
    cast(c_settled as double) as cust_n_settled,
    c_mean_days_to_pay as cust_mean_days_to_pay,
    c_median_days_to_pay as cust_median_days_to_pay,
    c_mean_days_late as cust_mean_days_late,
    c_median_days_late as cust_median_days_late,
    c_late_share as cust_late_share,
    c_last_days_late as cust_last_days_late,
    c_trend_days_late as cust_trend_days_late,
    c_std_days_late as cust_std_days_late,
    -- the customer's position the morning of the decision date
    cast(c_issued as double) as cust_n_issued,
    {{ ml_signed_log('c_open_amount') }} as cust_open_amount_log,
    cast(c_overdue as double) as cust_n_overdue,
    {{ ml_signed_log('greatest(c_overdue_amount, 0)') }} as cust_overdue_amount_log,
    cast(c_90plus as double) as cust_n_90plus,
    case when c_overdue > 0.5 then decision_day - c_overdue_due_day_sum / c_overdue else 0.0 end
        as cust_mean_days_overdue_open,
    c_ewm_days_late as cust_ewm_days_late,
    c_median5_days_late as cust_median5_days_late,
    cast({{ days_between('c_first_event_date', 'decision_date') }} as double) as cust_tenure_days,
    cast({{ days_between('c_last_settled_date', 'decision_date') }} as double) as cust_days_since_last_settlement,
    amount / (c_open_amount + abs(amount) + 1) as amount_vs_cust_open,
    -- the customer's settled invoice mix: means over the invoices it settled before the decision
    c_settled_mean_amount_log as cust_settled_mean_amount_log,
    c_settled_mean_terms_days as cust_settled_mean_terms_days,
    {%- for m in settled_milestone_shares %}
    c_settled_mean_share_{{ m }} as cust_settled_share_{{ m }},
    {%- endfor %}
    cast(c_disputes as double) as cust_n_disputes,
    {{ ml_signed_log('credit_limit') }} as credit_limit_log,
    case when credit_limit > 0 then (c_open_amount + amount) / credit_limit end as credit_utilisation,
    customer_terms_days,
    -- salesperson and project
    cast(s_settled as double) as sp_n_settled,
    s_mean_days_late as sp_mean_days_late,
    s_late_share as sp_late_share,
    cast(p_settled as double) as proj_n_settled,
    p_mean_days_late as proj_mean_days_late,
    cast(p_issued as double) as proj_n_issued,
    {{ ml_signed_log('project_contract_value') }} as proj_contract_value_log,
    case when project_contract_value > 0 then p_billed / project_contract_value end as proj_billed_share,
    cast({{ days_between('project_start_date', 'decision_date') }} as double) as proj_age_days,
    -- categorical
    invoice_type,
    milestone_type,
    currency,
    customer_type,
    region,
    industry,
    salesperson_team
from joined
