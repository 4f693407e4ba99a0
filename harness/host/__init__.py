"""The pluggy host: plugin discovery and isolation, the registries, stacked rows."""
