"""The shared core: config, database and migrations, clock, audit, errors, rendering, tabular imports."""
