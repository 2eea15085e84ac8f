"""Running several nodes of a server: HAProxy in front of them, as ``make demo-cluster`` does."""
