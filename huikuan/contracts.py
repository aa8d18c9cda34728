"""Canonical source contracts (DESIGN.md §3): the columns every loaded extract is mapped to.

One definition serves the generator (what it writes), ingestion (what it validates and loads into
`raw.*`), and dbt (the sources it stages). Amounts are signed decimals in the document currency;
credit notes carry negative amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical types. Ingestion parses text into these; raw tables store them typed.
STRING, DATE, TIMESTAMP, DECIMAL, INTEGER, BOOLEAN = (
    "string",
    "date",
    "timestamp",
    "decimal",
    "integer",
    "boolean",
)

DUCKDB_TYPES = {
    STRING: "VARCHAR",
    DATE: "DATE",
    TIMESTAMP: "TIMESTAMP",
    DECIMAL: "DECIMAL(18,4)",
    INTEGER: "BIGINT",
    BOOLEAN: "BOOLEAN",
}

# Lineage columns every raw row carries (DESIGN.md §2: every fact traces to its source file and row).
LINEAGE_COLUMNS = (
    ("source_file", "VARCHAR"),  # path of the landed file, relative to the landing folder
    ("source_row", "BIGINT"),  # 1-based data row (CSV: line after the header; XML/MT940: entry index)
    ("file_hash", "VARCHAR"),  # sha256 of the file's bytes
    ("loaded_at", "TIMESTAMP"),
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str = STRING
    required: bool = False
    values: tuple[str, ...] = ()  # allowed values for enumerations (empty = free)
    description: str = ""


@dataclass(frozen=True)
class Contract:
    entity: str  # raw table name, e.g. "invoices" -> raw.invoices
    key: tuple[str, ...]  # natural key; duplicates in a load go to quarantine
    columns: tuple[Column, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.entity} has no column {name!r}")


CUSTOMER_TYPES = ("soe", "private", "government", "foreign", "individual")
MILESTONE_TYPES = ("advance", "progress", "acceptance", "final", "retention")
INVOICE_TYPES = ("standard", "credit_note", "debit_note")
INVOICE_STATUSES = ("draft", "issued", "cancelled", "paid", "partially_paid", "written_off")
PROJECT_STATUSES = ("planned", "active", "completed", "suspended", "cancelled")
INVOICE_EVENT_TYPES = (
    "created",
    "submitted",
    "approved",
    "issued",
    "sent",
    "acknowledged",
    "disputed",
    "dispute_resolved",
    "cancelled",
    "written_off",
)

C = Column

CONTRACTS: dict[str, Contract] = {
    c.entity: c
    for c in (
        Contract(
            "customers",
            ("customer_id",),
            (
                C("customer_id", required=True),
                C("customer_name", required=True),
                C("tax_id", description="China: unified social credit code, 18 chars, check digit"),
                C("parent_customer_id"),
                C("region"),
                C("industry"),
                C("customer_type", values=CUSTOMER_TYPES),
                C("salesperson_id"),
                C("payment_terms_days", INTEGER),
                C("credit_limit", DECIMAL),
                C("currency"),
                C("created_date", DATE),
                C("is_active", BOOLEAN),
            ),
            "Customer master from the ERP.",
        ),
        Contract(
            "salespeople",
            ("salesperson_id",),
            (
                C("salesperson_id", required=True),
                C("name", required=True),
                C("team"),
                C("region"),
                C("email"),
            ),
            "Sales staff who own customers.",
        ),
        Contract(
            "projects",
            ("project_id",),
            (
                C("project_id", required=True),
                C("project_name", required=True),
                C("customer_id", required=True),
                C("project_manager"),
                C("start_date", DATE),
                C("planned_end_date", DATE),
                C("contract_value", DECIMAL),
                C("currency"),
                C("status", values=PROJECT_STATUSES),
            ),
            "Projects (engineering, construction, IT services) billed against contracts.",
        ),
        Contract(
            "contracts",
            ("contract_id",),
            (
                C("contract_id", required=True),
                C("project_id"),
                C("customer_id", required=True),
                C("signed_date", DATE, required=True),
                C("contract_amount", DECIMAL, required=True),
                C("currency"),
                C("payment_terms_days", INTEGER),
                C("retention_pct", DECIMAL),
            ),
            "Sales contracts.",
        ),
        Contract(
            "payment_milestones",
            ("milestone_id",),
            (
                C("milestone_id", required=True),
                C("contract_id", required=True),
                C("seq", INTEGER),
                C("milestone_type", values=MILESTONE_TYPES),
                C("pct", DECIMAL, description="share of the contract amount, 0-100"),
                C("amount", DECIMAL),
                C("planned_date", DATE),
                C("invoice_no", description="set once the milestone is billed"),
            ),
            "Contract payment plan (收款计划).",
        ),
        Contract(
            "invoices",
            ("invoice_no",),
            (
                C("invoice_no", required=True),
                C("invoice_type", values=INVOICE_TYPES),
                C("customer_id", required=True),
                C("project_id"),
                C("contract_id"),
                C("milestone_id"),
                C("issue_date", DATE, required=True),
                C("due_date", DATE),
                C("currency", required=True),
                C("net_amount", DECIMAL),
                C("tax_amount", DECIMAL),
                C("gross_amount", DECIMAL, required=True, description="signed; credit notes < 0"),
                C("tax_rate", DECIMAL, description="e.g. 0.13"),
                C("original_invoice_no", description="invoice a credit note corrects"),
                C("status", values=INVOICE_STATUSES),
                C("cleared_date", DATE, description="ERP open-item export: last clearing date"),
                C("cleared_amount", DECIMAL, description="ERP open-item export: amount cleared"),
            ),
            "Invoice register (standard invoices, credit and debit notes).",
        ),
        Contract(
            "invoice_events",
            ("invoice_no", "event_type", "event_at"),
            (
                C("invoice_no", required=True),
                C("event_type", required=True, values=INVOICE_EVENT_TYPES),
                C("event_at", TIMESTAMP, required=True),
                C("actor"),
            ),
            "Invoice lifecycle events.",
        ),
        Contract(
            "bank_transactions",
            ("bank_txn_key",),
            (
                C("account_id"),
                C("statement_id"),
                C("bank_txn_key", required=True, description="bank reference or a stable hash"),
                C("booking_date", DATE, required=True),
                C("value_date", DATE),
                C("amount", DECIMAL, required=True, description="signed, credit positive"),
                C("currency", required=True),
                C("counterparty_name"),
                C("counterparty_account"),
                C("remittance_text"),
                C("end_to_end_id"),
                C("structured_reference"),
                C("bank_tx_code"),
                C("is_reversal", BOOLEAN),
                C("source_position", description="position in the file, e.g. statement/entry"),
            ),
            "Bank statement lines from camt, MT940, BAI2 and bank CSV/XLSX exports.",
        ),
        Contract(
            "bank_statements",
            ("statement_id",),
            (
                C("statement_id", required=True),
                C("account_id", required=True),
                C("currency"),
                C("opening_date", DATE),
                C("opening_balance", DECIMAL),
                C("closing_date", DATE),
                C("closing_balance", DECIMAL),
                C("entry_count", INTEGER, description="the file's own control total, if any"),
            ),
            "Bank statement headers with balances where the format carries them.",
        ),
    )
}

QUARANTINE_COLUMNS = (
    ("source_file", "VARCHAR"),
    ("source_row", "BIGINT"),
    ("file_hash", "VARCHAR"),
    ("entity", "VARCHAR"),
    ("column_name", "VARCHAR"),
    ("value", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("raw_record", "VARCHAR"),  # the whole row as JSON, so nothing is lost
    ("loaded_at", "TIMESTAMP"),
)


def raw_table_ddl(entity: str, schema: str = "raw") -> str:
    """CREATE TABLE statement for a raw table: the contract's columns, typed, plus lineage."""
    contract = CONTRACTS[entity]
    cols = [f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in contract.columns]
    cols += [f'"{name}" {typ}' for name, typ in LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {schema}.{entity} (\n  " + ",\n  ".join(cols) + "\n)"


def quarantine_ddl(schema: str = "raw") -> str:
    cols = ",\n  ".join(f'"{n}" {t}' for n, t in QUARANTINE_COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {schema}.quarantine (\n  {cols}\n)"


def create_raw_tables(con, schema: str = "raw") -> None:
    """Create the raw schema, every contract table and the quarantine table (idempotent)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for entity in CONTRACTS:
        con.execute(raw_table_ddl(entity, schema))
    con.execute(quarantine_ddl(schema))
