"""Customer portal for complaints: /my/complaints (written by the portal work)."""
