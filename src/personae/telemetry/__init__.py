"""Telemetry: conversation telemetry, persona health, metrics, events, alerts, anomalies, forecasts."""
