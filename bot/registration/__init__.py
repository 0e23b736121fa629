"""Exam registration: online rounds, centralized seats, county plans."""
