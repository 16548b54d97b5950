"""The read side of fourpi: views that answer the five 4PI impact questions from the event log."""
