"""The staff console's reads: every payment attempt findable (search, CSV export), explainable
(one payment with its merged timeline) and counted (stats)."""
