"""Running fourpi: logging and metrics, the projection worker, serving with several processes, the GraphiQL page, the security headers of every response."""
