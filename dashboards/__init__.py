"""Streamlit dashboard: reads only the published, read-only warehouse snapshot."""
