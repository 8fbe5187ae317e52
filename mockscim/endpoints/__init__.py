"""HTTP endpoints: thin wrappers that read the request, call the core and return a response."""
