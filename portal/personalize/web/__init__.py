"""Route modules of the personalization blueprint (see portal/personalize/views.py)."""
