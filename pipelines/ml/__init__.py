"""ML asset group: weekly training with promotion, daily scoring and cash forecast."""
