"""Running several nodes of a server: the sticky load balancer ``make demo-cluster`` uses."""
