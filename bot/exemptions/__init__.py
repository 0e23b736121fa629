"""Exemption filings."""
