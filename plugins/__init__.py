"""Built-in tom-harness plugins, each registered through the ``tom_harness`` entry-point group."""
