"""Personal data: each person's key and its shredding, what a caller may see (visibility, redaction, small-number suppression)."""
