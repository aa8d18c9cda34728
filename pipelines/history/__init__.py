"""History asset group: month-end aging and KPI snapshots, kept forever."""
