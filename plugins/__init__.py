"""Built-in tom-harness plugins (the package ``tom_harness.plugins``).

They are not entry points: ``DEFAULT_PLUGINS`` in ``tom_harness/host/plugin_host.py`` names each
module, and the host imports and registers all of them on every run, before any third-party plugin
of the ``tom_harness`` entry-point group (which ``TOM_HARNESS_LOAD_PLUGINS`` filters; it never
filters these). Like a third-party plugin, each imports only the public API (``tom_harness``,
``tom_harness.api``) and no other plugin's modules (import-linter contracts in setup.cfg).
"""
