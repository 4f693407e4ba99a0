"""The public contract every plugin, backend and task author builds on: hooks, interventions,
parameters, traits, the run context, errors. Lowest layer: it imports nothing else of the project."""
