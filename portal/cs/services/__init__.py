"""Every operation that changes customer-success data: web forms, API, CSV imports, jobs and tests use these."""
