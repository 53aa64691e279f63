"""Forecasts: submissions and their cut-off, weekly snapshots, baselines, the history-based
model with its range, accuracy and bias per rep, and the backtest."""
