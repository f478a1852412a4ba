"""The three standard pre-sales reports (PDF/CSV through portal.reports)."""
