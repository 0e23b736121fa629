"""Question-bank submissions."""
