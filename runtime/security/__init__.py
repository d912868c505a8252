"""Security profiles of PS3.15: secure transport connections (``tls``)."""
