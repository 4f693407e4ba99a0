"""Model surgery on the loaded torch module: decoder blocks, target linears, residual-stream
hooks, pooled activations, bit-identity snapshots and fingerprints."""
