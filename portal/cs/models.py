"""cs models (tables)."""
