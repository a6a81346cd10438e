"""Telemetry: conversations, persona health, metrics, events, alerts, anomalies, forecasts."""
