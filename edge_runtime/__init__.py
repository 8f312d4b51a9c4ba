"""edge-runtime: a team of small local models run as one, on a CPU, inside a memory budget."""
from edge_runtime.models.backends.base import CausalLM, Vocab
from edge_runtime.config import Config, load_config
from edge_runtime.errors import EdgeRuntimeError

__all__ = ["CausalLM", "Config", "EdgeRuntimeError", "Vocab", "load_config"]
__version__ = "0.1.0"
