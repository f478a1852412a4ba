"""Report declarations shared by every module (filled in by the automation/reports issue)."""
