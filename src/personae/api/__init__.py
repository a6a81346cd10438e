"""The HTTP API: `create_app(settings, urls)`; routes only translate to domain services."""
