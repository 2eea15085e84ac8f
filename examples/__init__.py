"""Small runnable examples the docs show with their output (tests run them)."""
