"""Exam results: import, pass rates, the makeup list and its consequences."""
