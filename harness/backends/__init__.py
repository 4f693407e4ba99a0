"""Model backends (hf, vllm) that load a model once into a ModelHandle, and the cached
model caller prompt methods use."""
