"""A realistic, deterministic synthetic sales org for demos, tests and benchmarks.

`load_demo(engine, now=..., scale=..., seed=...)` fills a database; `demo_summary(session)`
describes what is in it. Scale 1 is about 3 teams and 24 reps over two years; scale 100 is
about a million deals, a million leads and five million activities.
"""

from salesops_core.demo.load import DemoRefused, load_demo
from salesops_core.demo.summary import DemoSummary, demo_summary

__all__ = ["DemoRefused", "DemoSummary", "demo_summary", "load_demo"]
