"""Chinese bank exports (CSV/XLSX): placeholder replaced below."""
def detect_bank_layout(facts, kind):
    return None
