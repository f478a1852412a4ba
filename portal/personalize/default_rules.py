"""Moved to portal.automation.default_rules (pre-sales seeds its survey rule there too); kept for the imports."""
from portal.automation.default_rules import DefaultRule as PersonalizeDefaultRule, rule_for, seed  # noqa: F401
