"""The HTTP face of facmon: REST under /api/v1, the live event stream, the operations console."""
