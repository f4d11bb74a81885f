"""Hostile files built by scripts: bombs, active content, and checks that find what they carry."""
