"""One module per area (common, home, feed, ..., bot), each with a MESSAGES dict."""
