"""Payment-date and default-risk models, the cash forecast and the model registry (DESIGN.md §7).

Pure functions over an invoice history frame (`models_ml.features.HISTORY_COLUMNS`):
`features` (point in time), `models` (training and prediction), `evaluate` (one metric function
for models and baselines), `backtest` (rolling origins), `forecast` (cash receipts), `registry`
(skops persistence and promotion), `data` (history from extracts or the warehouse), `public`
(public benchmark datasets).
"""
