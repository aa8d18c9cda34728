"""huikuan (回款): a receivables warehouse — ingest ERP, invoice and bank extracts, build marts, predict payment."""

__version__ = "0.1.0"
