"""Domain services: pure logic plus a database session. They never import ``telegram``."""
