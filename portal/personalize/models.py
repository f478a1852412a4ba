"""personalize models (tables)."""
