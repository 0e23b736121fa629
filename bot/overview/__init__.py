"""The city office's view of the whole campaign: status and exports."""
