"""Move a 0.9 app to 1.0+ middlewares one working step at a time (docs: migration guide)."""
