"""personalize: events, subjects and periodic jobs the module declares."""
