"""The agent runtime: personas' generation parameters, model providers with fallback and
rate limits, and the turn pipeline."""
