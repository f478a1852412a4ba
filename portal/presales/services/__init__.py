"""Every operation that changes pre-sales data. Views, API, imports, jobs and tests call these."""
