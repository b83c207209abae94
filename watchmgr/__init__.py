"""watchmgr: Sigma rules to Elasticsearch Watcher watches, planned and applied per environment."""

__version__ = "0.1.0"
