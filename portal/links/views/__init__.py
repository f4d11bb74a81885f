"""The pages of public links: the back office (/links) and the visitor's pages (/p)."""
