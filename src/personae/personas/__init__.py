"""Personas, their members and agents; agent graphs and templates; agent skins."""
