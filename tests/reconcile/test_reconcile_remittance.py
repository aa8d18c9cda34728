"""Remittance parsing: invoice numbers in the spellings people use, and ISO 11649 references."""

import pytest

from huikuan.reconcile.remittance import RefIndex, rf_is_valid, rf_make, rf_payloads, skeleton

NUMBERS = ["INV-2025-0001234", "INV-2025-0001235", "INV-2024-0000007", "FP88001234"]


@pytest.fixture(scope="module")
def index():
    return RefIndex.build(NUMBERS)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("INV-2025-0001234", ["INV-2025-0001234"]),
        ("inv-2025-0001234", ["INV-2025-0001234"]),
        ("INV 2025 0001234", ["INV-2025-0001234"]),
        ("INV20250001234", ["INV-2025-0001234"]),
        ("INV/2025/0001234", ["INV-2025-0001234"]),
        ("支付INV-2025-0001234工程款", ["INV-2025-0001234"]),
        ("ＩＮＶ－２０２５－０００１２３４", ["INV-2025-0001234"]),  # full-width
        ("发票号:INV-2025-0001234,INV-2025-0001235 进度款", ["INV-2025-0001234", "INV-2025-0001235"]),
        ("INV-2025-0001234 INV-2025-0001235", ["INV-2025-0001234", "INV-2025-0001235"]),
        ("付INV20250001235及INV20250001234", ["INV-2025-0001235", "INV-2025-0001234"]),
        ("Inv No. INV-2024-0000007 payment", ["INV-2024-0000007"]),
        ("fp88001234", ["FP88001234"]),
        ("货款 工程款", []),
        ("INV-2025-0009999", []),  # not an invoice that exists
        ("INV-2025-0001234 again INV-2025-0001234", ["INV-2025-0001234"]),  # listed once
    ],
)
def test_invoice_numbers_in_every_spelling(index, text, expected):
    assert [no for no, _ in index.find(text)] == expected


def test_number_without_prefix_is_found_as_weaker_evidence(index):
    assert index.find("付款2025-0001234") == [("INV-2025-0001234", "digits")]
    assert index.find("20250001235工程款") == [("INV-2025-0001235", "digits")]
    assert index.find("INV-2025-0001234") == [("INV-2025-0001234", "number")]


def test_ambiguous_digits_are_ignored():
    idx = RefIndex.build(["INV-2025-0001234", "CN-2025-0001234"])
    assert idx.find("2025-0001234") == []
    assert idx.find("CN-2025-0001234") == [("CN-2025-0001234", "number")]


def test_skeleton():
    assert skeleton("inv-2025 / 0001234") == "INV20250001234"


def test_rf_check_digits():
    assert rf_is_valid("RF18539007547034")
    assert rf_is_valid("RF18 5390 0754 7034")  # printed in groups of four
    assert not rf_is_valid("RF19539007547034")
    assert not rf_is_valid("RF18539007547035")
    made = rf_make("INV-2025-0001235")
    assert made.startswith("RF") and rf_is_valid(made)


def test_rf_reference_resolves_to_invoice(index):
    ref = rf_make("INV20250001235")
    printed = " ".join(ref[k : k + 4] for k in range(0, len(ref), 4))
    assert index.find(f"付款 {printed}") == [("INV-2025-0001235", "number")]
    assert rf_payloads("RF18539007547034 TRAILING") == ["539007547034"]
    # A reference with a wrong check digit is not trusted.
    bad = ref[:2] + ("00" if ref[2:4] != "00" else "01") + ref[4:]
    assert rf_payloads(bad) == []
