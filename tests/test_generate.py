"""Generator: determinism, contract headers, check digits, amounts, bank balances, truth, behaviour."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lxml import etree

from huikuan.contracts import CONTRACTS
from huikuan.generate import auc, generate
from huikuan.generate.codes import (
    is_valid_rf,
    is_valid_uscc,
    make_usccs,
    rf_for_invoice_numbers,
    rf_reference,
    uscc_check_char,
)
from tests.conftest import AS_OF

CAMT_NS = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """A dataset large enough for share and learnability checks (about a second to make)."""
    out = tmp_path_factory.mktemp("gen3000")
    generate(out=out, invoices=3000, seed=11, as_of=AS_OF)
    return out


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _csv(path: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kw)


# ---------------------------------------------------------------- codes


def test_uscc_check_digit_known_code_and_mutations():
    assert is_valid_uscc("91350100M000100Y43")  # the example code of GB 32100-2015
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert not is_valid_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91350100M000100Y4")  # 17 chars
    assert not is_valid_uscc("91350100I000100Y43")  # I is not in the alphabet
    with pytest.raises(ValueError):
        uscc_check_char("91350100O000100Y4")


def test_generated_usccs_are_valid_and_carry_inputs():
    rng = np.random.Generator(np.random.PCG64(1))
    n = 500
    codes = make_usccs(
        rng,
        np.array(["9"] * n, dtype=object),
        np.array(["1"] * n, dtype=object),
        np.array(["420100"] * n, dtype=object),
    )
    assert all(is_valid_uscc(c) for c in codes)
    assert all(c.startswith("91420100") for c in codes)
    assert len(set(codes)) > 490


def test_rf_reference_iso_11649():
    assert is_valid_rf("RF18539007547034")  # the example of ISO 11649
    assert not is_valid_rf("RF19539007547034")
    ref = rf_reference("INV20250001234")
    assert is_valid_rf(ref)
    vec = rf_for_invoice_numbers(np.array([2025, 2024]), np.array([1234, 9999999]))
    assert vec[0] == ref and vec[1] == rf_reference("INV20249999999")


def test_auc_by_ranks():
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)


# ---------------------------------------------------------------- determinism and layout


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(out=a, invoices=300, seed=5, as_of=AS_OF)
    generate(out=b, invoices=300, seed=5, as_of=AS_OF)
    generate(out=c, invoices=300, seed=6, as_of=AS_OF)
    ha, hb, hc = _hashes(a), _hashes(b), _hashes(c)
    assert ha == hb
    assert len(ha) > 50
    assert ha["landing/invoicing/invoices.csv"] != hc["landing/invoicing/invoices.csv"]


def test_layout_and_manifest(generated_small):
    root = generated_small
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == AS_OF.isoformat() and manifest["seed"] == 7
    assert manifest["counts"]["invoices"] == 600
    bank = sorted(p.name for p in (root / "landing/bank").iterdir())
    assert any(re.fullmatch(r"icbc_\d+_\d{6}\.csv", n) for n in bank)
    assert any(re.fullmatch(r"cmb_\d+_\d{6}\.xml", n) for n in bank)
    for ccy in ("USD", "EUR", "HKD"):
        assert any(re.fullmatch(rf"hsbc_\d+_{ccy}_\d{{6}}\.sta", n) for n in bank)
    for rel, info in manifest["files"].items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == info["sha256"]
    assert {"payment_links.csv", "bank_lines.csv", "invoice_outcomes.csv"} <= {
        p.name for p in (root / "truth").iterdir()
    }


@pytest.mark.parametrize(
    "folder,entity",
    [
        ("erp", "customers"),
        ("erp", "salespeople"),
        ("erp", "projects"),
        ("erp", "contracts"),
        ("erp", "payment_milestones"),
        ("invoicing", "invoices"),
        ("invoicing", "invoice_events"),
    ],
)
def test_headers_are_contract_columns(generated_small, folder, entity):
    raw = (generated_small / "landing" / folder / f"{entity}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (folder == "erp")  # ERP exports carry a BOM
    df = _csv(generated_small / "landing" / folder / f"{entity}.csv", encoding="utf-8-sig")
    assert list(df.columns) == CONTRACTS[entity].column_names
    assert len(df) > 0
    for col in CONTRACTS[entity].columns:
        if col.required:
            assert (df[col.name] != "").all(), f"{entity}.{col.name} has blanks"
        if col.values:
            assert set(df[col.name]) - {""} <= set(col.values), f"{entity}.{col.name}"
        if col.type == "date":
            vals = df.loc[df[col.name] != "", col.name]
            assert vals.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
        if col.type == "decimal":
            vals = df.loc[df[col.name] != "", col.name]
            assert vals.str.fullmatch(r"-?\d+(\.\d+)?").all(), f"{entity}.{col.name}"
        if col.type == "boolean":
            assert set(df[col.name]) <= {"true", "false", ""}
    key = list(CONTRACTS[entity].key)
    assert not df.duplicated(key).any()


# ---------------------------------------------------------------- master data and invoices


def test_customers(generated_small):
    c = _csv(generated_small / "landing/erp/customers.csv", encoding="utf-8-sig")
    cn = c[~c.customer_type.isin(["foreign", "individual"])]
    assert len(cn) > 0 and cn.tax_id.map(is_valid_uscc).all()
    assert set(c.loc[c.customer_type == "foreign", "currency"]) <= {"USD", "EUR", "HKD"}
    assert set(c.loc[c.customer_type != "foreign", "currency"]) == {"CNY"}
    assert set(c.payment_terms_days) <= {"30", "60", "90"}
    parents = set(c.parent_customer_id) - {""}
    assert parents and parents <= set(c.customer_id)
    assert set(c.region) <= {"华北", "华东", "华中", "华南", "西南", "西北", "东北"}


def test_invoice_amounts_dates_and_numbers(generated_small):
    inv = _csv(generated_small / "landing/invoicing/invoices.csv")
    assert inv.invoice_no.str.fullmatch(r"INV-\d{4}-\d{7}").all() and inv.invoice_no.is_unique
    net, tax, gross = (inv[c].map(Decimal) for c in ("net_amount", "tax_amount", "gross_amount"))
    assert (net + tax == gross).all()
    rate = inv.tax_rate.map(Decimal)
    assert set(inv.tax_rate) <= {"0.13", "0.09", "0.06"}
    assert ((net * rate - tax).abs() <= Decimal("0.02")).all()
    issue = pd.to_datetime(inv.issue_date)
    due = pd.to_datetime(inv.due_date)
    c = _csv(generated_small / "landing/erp/contracts.csv", encoding="utf-8-sig").set_index("contract_id")
    std = inv.invoice_type == "standard"
    terms = inv.loc[std, "contract_id"].map(c.payment_terms_days).astype(int)
    assert ((due[std] - issue[std]).dt.days == terms).all()
    assert issue.max() <= pd.Timestamp(AS_OF)
    assert issue.min() >= pd.Timestamp(AS_OF - timedelta(days=3 * 366))
    cn = inv[inv.invoice_type == "credit_note"]
    assert len(cn) and (cn.gross_amount.map(Decimal) < 0).all()
    assert cn.original_invoice_no.isin(inv.invoice_no).all()
    assert (inv.status == "cancelled").sum() == 6
    ev = _csv(generated_small / "landing/invoicing/invoice_events.csv")
    assert set(ev.loc[ev.event_type == "cancelled", "invoice_no"]) == set(
        inv.loc[inv.status == "cancelled", "invoice_no"]
    )
    assert ev.invoice_no.isin(inv.invoice_no).all()
    assert pd.to_datetime(ev.event_at).max() < pd.Timestamp(AS_OF + timedelta(days=1))
    assert {"disputed", "acknowledged", "sent"} <= set(ev.event_type)
    # the ERP only knows payments booked at least 15 days before as_of
    cleared = inv[inv.cleared_date != ""]
    assert (pd.to_datetime(cleared.cleared_date) <= pd.Timestamp(AS_OF - timedelta(days=15))).all()


def test_milestone_plans(generated_small):
    root = generated_small
    ms = _csv(root / "landing/erp/payment_milestones.csv", encoding="utf-8-sig")
    c = _csv(root / "landing/erp/contracts.csv", encoding="utf-8-sig").set_index("contract_id")
    inv = _csv(root / "landing/invoicing/invoices.csv")
    assert (ms.groupby("contract_id").pct.apply(lambda s: sum(map(Decimal, s))) == 100).all()
    sums = ms.groupby("contract_id").amount.apply(lambda s: sum(map(Decimal, s)))
    assert (sums == c.loc[sums.index, "contract_amount"].map(Decimal)).all()
    billed = ms[ms.invoice_no != ""]
    assert billed.invoice_no.isin(inv.invoice_no).all()
    unbilled = ms[ms.invoice_no == ""]
    assert (pd.to_datetime(unbilled.planned_date) > pd.Timestamp(AS_OF)).sum() > 0
    assert {"advance", "progress", "acceptance", "retention"} <= set(ms.milestone_type)
    std = inv[inv.invoice_type == "standard"]
    assert std.milestone_id.isin(ms.milestone_id).all()


# ---------------------------------------------------------------- bank files


def _icbc_rows(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, encoding="gbk", skiprows=6, dtype=str, keep_default_na=False)
    return df.apply(lambda s: s.str.strip())


def _num(s: str) -> Decimal:
    return Decimal(s.replace(",", "")) if s else Decimal(0)


def test_icbc_csv_is_gbk_with_running_balance(generated_small):
    files = sorted((generated_small / "landing/bank").glob("icbc_*.csv"))
    assert files
    with pytest.raises(UnicodeDecodeError):
        files[-1].read_bytes().decode("utf-8")
    prev = None
    n = 0
    for f in files:
        df = _icbc_rows(f)
        assert list(df.columns)[:3] == ["交易日期", "交易流水号", "摘要"]
        for _, row in df.iterrows():
            amount = _num(row["交易金额(收入)"]) - _num(row["交易金额(支出)"])
            bal = _num(row["余额"])
            if prev is not None:
                assert prev + amount == bal, f"{f.name}: {row['交易流水号']}"
            prev = bal
            n += 1
    assert n > 100


def test_camt_balances_and_counts(generated_small):
    files = sorted((generated_small / "landing/bank").glob("cmb_*.xml"))
    assert files
    prev_close = None
    for f in files:
        doc = etree.parse(str(f))
        stmt = doc.find(".//c:Stmt", CAMT_NS)
        bals = {
            b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=CAMT_NS): Decimal(
                b.findtext("c:Amt", namespaces=CAMT_NS)
            )
            * (1 if b.findtext("c:CdtDbtInd", namespaces=CAMT_NS) == "CRDT" else -1)
            for b in stmt.findall("c:Bal", CAMT_NS)
        }
        entries = stmt.findall("c:Ntry", CAMT_NS)
        total = sum(
            Decimal(e.findtext("c:Amt", namespaces=CAMT_NS))
            * (1 if e.findtext("c:CdtDbtInd", namespaces=CAMT_NS) == "CRDT" else -1)
            for e in entries
        )
        assert bals["OPBD"] + total == bals["CLBD"], f.name
        assert int(stmt.findtext("c:TxsSummry/c:TtlNtries/c:NbOfNtries", namespaces=CAMT_NS)) == len(entries)
        if prev_close is not None:
            assert bals["OPBD"] == prev_close
        prev_close = bals["CLBD"]
        for e in entries:
            assert e.findtext("c:AcctSvcrRef", namespaces=CAMT_NS)
    refs = [r for f in files for r in etree.parse(str(f)).iterfind(".//c:Strd/c:CdtrRefInf/c:Ref", CAMT_NS)]
    assert all(is_valid_rf(r.text) for r in refs)


def _mt940_amount(s: str) -> Decimal:
    return Decimal(s.replace(",", "."))


def test_mt940_balances_by_hand_and_with_library(generated_small):
    import mt940

    files = sorted((generated_small / "landing/bank").glob("hsbc_*.sta"))
    assert files
    for f in files:
        text = f.read_text(encoding="ascii")
        op = re.search(r":60F:([CD])(\d{6})([A-Z]{3})([\d,]+)", text)
        cl = re.search(r":62F:([CD])(\d{6})([A-Z]{3})([\d,]+)", text)
        opening = _mt940_amount(op.group(4)) * (1 if op.group(1) == "C" else -1)
        closing = _mt940_amount(cl.group(4)) * (1 if cl.group(1) == "C" else -1)
        moves = re.findall(r":61:\d{10}(C|D)([\d,]+)N[A-Z]{3}[^/\n]*//(\S{1,16})", text)
        assert len(moves) == text.count(":61:")
        total = sum(_mt940_amount(a) * (1 if cd == "C" else -1) for cd, a, _ in moves)
        assert opening + total == closing, f.name
        for line in text.splitlines():
            assert len(line) <= 65
        parsed = mt940.models.Transactions()
        parsed.parse(text)
        assert len(parsed.transactions) == len(moves)
        if moves:
            got = sum(t.data["amount"].amount for t in parsed.transactions)
            assert got == total


# ---------------------------------------------------------------- truth


def _bank_keys_in_files(root: Path) -> list[str]:
    keys = []
    for f in sorted((root / "landing/bank").glob("icbc_*.csv")):
        keys += list(_icbc_rows(f)["交易流水号"])
    for f in sorted((root / "landing/bank").glob("cmb_*.xml")):
        keys += [
            e.text
            for e in etree.parse(str(f)).iterfind("c:BkToCstmrStmt/c:Stmt/c:Ntry/c:AcctSvcrRef", CAMT_NS)
        ]
    for f in sorted((root / "landing/bank").glob("hsbc_*.sta")):
        keys += re.findall(r"^:61:.*//(\S+)$", f.read_text(encoding="ascii"), flags=re.MULTILINE)
    return keys


def test_truth_refers_to_real_lines_and_invoices(generated_small):
    root = generated_small
    lines = _csv(root / "truth/bank_lines.csv")
    links = _csv(root / "truth/payment_links.csv")
    inv = _csv(root / "landing/invoicing/invoices.csv")
    keys = _bank_keys_in_files(root)
    assert len(keys) == len(set(keys)) == len(lines)
    assert set(keys) == set(lines.bank_txn_key)
    assert links.invoice_no.isin(inv.invoice_no).all()
    cat = lines.set_index("bank_txn_key").category
    assert (links.bank_txn_key.map(cat) == "receivable").all()  # non-receivable lines never match
    receivable = lines[lines.category == "receivable"]
    assert set(receivable.bank_txn_key) == set(links.bank_txn_key)
    applied = links.groupby("bank_txn_key").applied_amount.apply(lambda s: sum(map(Decimal, s)))
    amount = receivable.set_index("bank_txn_key").amount.map(Decimal)
    assert (applied == amount.loc[applied.index]).all()
    assert (lines.loc[lines.category == "debit", "amount"].map(Decimal) < 0).all()
    assert (lines.loc[lines.category != "debit", "amount"].map(Decimal) > 0).all()
    assert set(inv.loc[inv.status == "cancelled", "invoice_no"]).isdisjoint(links.invoice_no)


def test_remittance_references_point_at_the_linked_invoices(generated_small):
    """Where truth says a receipt quotes invoice numbers, the text really contains them."""
    root = generated_small
    lines = _csv(root / "truth/bank_lines.csv")
    links = _csv(root / "truth/payment_links.csv")
    texts = {}
    for f in sorted((root / "landing/bank").glob("icbc_*.csv")):
        df = _icbc_rows(f)
        texts.update(zip(df["交易流水号"], df["附言"], strict=True))
    icbc = lines[(lines.bank_txn_key.isin(texts)) & (lines.category == "receivable")]
    checked = 0
    for key, has_ref in zip(icbc.bank_txn_key, icbc.has_invoice_ref, strict=True):
        norm = re.sub(r"[^0-9]", "", texts[key])
        nos = links.loc[links.bank_txn_key == key, "invoice_no"]
        std_nos = [n for n in nos if n.startswith("INV-")]
        digits = [n.replace("INV-", "").replace("-", "") for n in std_nos]
        if has_ref == "true":
            assert any(d in norm for d in digits), (key, texts[key], digits)
            checked += 1
        else:
            assert not any(d in norm for d in digits)
    assert checked > 20


def test_noise_shares_measured_from_truth(medium):
    lines = _csv(medium / "truth/bank_lines.csv")
    links = _csv(medium / "truth/payment_links.csv")
    rec = lines[lines.category == "receivable"]
    credit = lines[lines.category != "debit"]
    assert (rec.has_invoice_ref == "false").mean() >= 0.20
    per_key = links.groupby("bank_txn_key").invoice_no.nunique()
    combined = (per_key >= 2).sum() / len(rec)
    assert 0.06 <= combined <= 0.16
    assert 0.015 <= (rec.receipt_kind == "fee_short").mean() <= 0.05
    assert 0.02 <= (rec.payer_customer_id != rec.true_customer_id).mean() <= 0.09
    assert 0.03 <= (credit.category == "non_receivable").mean() <= 0.08
    assert (rec.payer_variant_kind != "exact").mean() >= 0.25
    parts = links[links.link_kind == "partial"].groupby("invoice_no").size()
    paid = links.invoice_no.nunique()
    assert 0.02 <= len(parts) / paid <= 0.09 and parts.max() <= 3
    manifest = json.loads((medium / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["shares"]["receipts_without_invoice_ref"] == pytest.approx(
        (rec.has_invoice_ref == "false").mean(), abs=1e-3
    )


def test_noise_floor_matches_outcomes_and_structure_is_learnable(medium):
    out = _csv(medium / "truth/invoice_outcomes.csv")
    manifest = json.loads((medium / "manifest.json").read_text(encoding="utf-8"))
    paid = out[out.paid_by_as_of == "true"]
    terms = (pd.to_datetime(paid.due_date) - pd.to_datetime(paid.issue_date)).dt.days
    floor = (paid.days_to_pay.astype(float) - (terms + paid.expected_days_late.astype(float))).abs().mean()
    assert floor == pytest.approx(manifest["noise_floor_mae_days"], abs=0.01)
    assert 3 <= floor <= 12
    # the truth is what was knowable at issue: knowing the later disputes would beat it
    after = (
        paid.days_to_pay.astype(float) - (terms + paid.expected_delay_after_dispute_days.astype(float))
    ).abs()
    assert after.mean() < floor
    assert manifest["noise_floor_mae_days_after_dispute"] == pytest.approx(after.mean(), abs=0.01)
    # expected days late is the expected delay moved to a working day: never earlier, at most two weeks later
    shift = paid.expected_days_late.astype(float) - paid.expected_delay_days.astype(float).round()
    assert shift.between(-1, 14).all()  # -1: the two-decimal text can round the other way at .5
    # issue-time default probabilities: averaged over the dispute, and the 90-days-after-due label
    # (never paid, or paid later than that) is at least as likely as never paying
    p_never, p90 = out.p_default.astype(float), out.p_unpaid_90_after_due.astype(float)
    assert (p90 >= p_never - 1e-5).all()
    disputed = out.disputed == "true"
    assert (out.p_default_after_dispute.astype(float)[disputed] >= p_never[disputed] - 1e-5).all()
    # the floor is far below what ignoring the structure costs
    naive = (paid.days_to_pay.astype(float) - paid.days_to_pay.astype(float).median()).abs().mean()
    assert naive > 2 * floor
    cust = _csv(medium / "landing/erp/customers.csv", encoding="utf-8-sig").set_index("customer_id")
    out["type"] = out.customer_id.map(cust.customer_type)
    mean = out.groupby("type").expected_delay_days.apply(lambda s: s.astype(float).mean())
    assert mean["government"] > mean["private"] and mean["soe"] > mean["private"]
    # a customer's early lateness predicts its later lateness (per-customer propensity)
    p = paid.assign(issue=pd.to_datetime(paid.issue_date), late=paid.days_late.astype(float))
    cut = p.issue.median()
    early = p[p.issue < cut].groupby("customer_id").late.mean()
    late = p[p.issue >= cut].groupby("customer_id").late.mean()
    both = pd.concat([early, late], axis=1, join="inner")
    assert both.corr().iloc[0, 1] > 0.5
    # defaults concentrate where the known probability is high
    y = (out.defaulted == "true").to_numpy()
    assert 0.005 < y.mean() < 0.06
    assert auc(y, out.p_default.astype(float).to_numpy()) >= 0.85
    # payment dates after as_of are open at as_of
    assert (
        pd.to_datetime(out.loc[out.paid_by_as_of == "false", "paid_date"].replace("", None)).dropna()
        > pd.Timestamp(AS_OF)
    ).all()


def test_cli_prints_summary(tmp_path, capsys):
    from huikuan.cli import main

    assert (
        main(
            [
                "generate",
                "--invoices",
                "200",
                "--seed",
                "1",
                "--out",
                str(tmp_path / "o"),
                "--as-of",
                "2026-06-30",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "200 invoices" in printed and "noise floor" in printed
    assert (tmp_path / "o/manifest.json").exists()


def test_rejects_too_few_invoices(tmp_path):
    with pytest.raises(ValueError, match="at least 50"):
        generate(out=tmp_path, invoices=10, seed=1, as_of=date(2026, 6, 30))
