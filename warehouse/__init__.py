"""The physical side: the source contract as code, loaders, quarantine and reconciliation,
engines (DuckDB, StarRocks), the calendar and the demo-data generator."""
