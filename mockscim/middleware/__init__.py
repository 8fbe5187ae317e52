"""Pure ASGI middleware: each passes a request on or answers it itself, and never raises."""
