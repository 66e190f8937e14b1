"""Web knowledge: fetching pages safely and reading what a crawl needs from a site."""
