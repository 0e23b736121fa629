"""make bench: figures for the README (never imported by the product)."""
