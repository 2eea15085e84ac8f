"""Real Socket.IO as the oracle: the same scripted authorization on the real servers and ours."""
