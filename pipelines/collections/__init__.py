"""Collections asset group: dunning reminders from the published snapshot."""
