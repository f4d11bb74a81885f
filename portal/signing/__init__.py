"""The public signing page: a party opens its link, agrees, confirms a code, fills and signs."""
