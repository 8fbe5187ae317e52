"""Small pure helpers for every layer: bounded JSON text, query strings, UTC times, where shipped data lives."""
