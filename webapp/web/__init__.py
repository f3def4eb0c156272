"""The HTTP edge: default-deny access, security headers, error pages, template helpers."""
