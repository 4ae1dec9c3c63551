"""Demo hospital generator: a seeded, deterministic hospital that looks like one.

    from warehouse.demo import generate, write_delivery, SCALES
    tables = generate("tiny", seed=42)                    # dict: table -> DataFrame
    write_delivery(tables, "/tmp/delivery", fmt="csv")    # files + _manifest.csv

Presets (`SCALES`): tiny (~20 k visits, ~1 k discharges), small (~1 M / ~30 k),
large (~20 M / ~500 k), west-china (~120 M / ~2.6 M, 2009 to now). For the big ones, stream:
`write_delivery(generate_chunks("large"), out_dir)` keeps one month in memory at a time.
"""
from .generator import generate, generate_chunks
from .scales import SCALES, Scale
from .writer import write_delivery

__all__ = ["SCALES", "Scale", "generate", "generate_chunks", "write_delivery"]
