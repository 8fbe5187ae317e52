"""Small pure helpers every layer may use: bounded JSON text, UTC time formats, where the shipped data lives."""
