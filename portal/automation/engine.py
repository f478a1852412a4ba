"""The rule engine (filled in by the automation issue)."""


def sweep():
    return {}
