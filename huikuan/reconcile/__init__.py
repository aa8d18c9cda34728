"""Reconciliation (cash application): match bank receipts to open invoices, learn from people's decisions.

`reconcile()` is the pure engine over DataFrames; `reconcile_warehouse()` reads the warehouse and the
operational store; `write_results()` writes schema `reconciliation`; `learn_aliases()` turns
confirmed matches into payer aliases.
"""

from huikuan.reconcile.config import ReconcileConfig
from huikuan.reconcile.engine import ReconcileResult, reconcile
from huikuan.reconcile.learning import learn_aliases
from huikuan.reconcile.warehouse import load_inputs, reconcile_warehouse, write_results

__all__ = [
    "ReconcileConfig",
    "ReconcileResult",
    "learn_aliases",
    "load_inputs",
    "reconcile",
    "reconcile_warehouse",
    "write_results",
]
