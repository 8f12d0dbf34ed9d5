"""SQL storage: configuration as its own truth, conversations as a projection of workflows."""
