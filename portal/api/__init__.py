"""The JSON REST API (/api/v1) with personal API tokens."""
