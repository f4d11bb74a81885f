"""The public integrity checker: is a PDF one this portal issued, and is it unchanged."""
