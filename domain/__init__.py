"""The write model of fourpi: the 4PI record as event-sourced aggregates, knowing nothing of storage or HTTP."""
