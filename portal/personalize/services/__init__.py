"""Every change personalization makes goes through these modules (views, CSV import, jobs, demo and tests)."""
