"""Performance harness (``make bench``): intake over HTTP, list and search at 1M complaints."""
