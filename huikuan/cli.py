"""The `huikuan` command: a router over subcommands, each defined beside the code it drives.

A subcommand module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "generate": "huikuan.generate.cli",
    "ingest": "huikuan.ingest.cli",
    "run": "huikuan.commands.run",
    "demo": "huikuan.commands.demo",
    "dashboard": "huikuan.commands.dashboard",
    "ui": "huikuan.commands.ui",
    "reconcile": "huikuan.reconcile.cli",
    "backtest": "models_ml.cli",
    "bench": "bench.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="huikuan", description="Receivables warehouse: ingest, build, reconcile, predict, publish."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_path in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_path)
        except ModuleNotFoundError as exc:
            if exc.name and module_path.startswith(exc.name):
                continue  # that part of the product is not installed in this checkout
            raise
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
