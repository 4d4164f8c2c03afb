"""One router per resource of the REST API, plus the live event stream and the health check."""
