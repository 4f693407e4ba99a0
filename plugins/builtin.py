"""Built-in plugin: placeholder until written."""
