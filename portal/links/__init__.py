"""Public self-service links: a template anyone with the link can fill in and sign."""
