"""Being found: search attributes (client side) and what a workflow shows in the Web UI."""
