"""Ingestion: load ERP, invoicing and bank extracts from the landing folder into raw.* safely.

Public entry points: `ingest_paths` (load files/folders), `FileResult`, and the pure checks in
`huikuan.ingest.checks` that the scheduler runs after a load.
"""

from huikuan.ingest.load import FileResult, ingest_paths

__all__ = ["FileResult", "ingest_paths"]
