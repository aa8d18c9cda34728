"""Reconciliation asset group: bank receipts matched to open invoices."""
