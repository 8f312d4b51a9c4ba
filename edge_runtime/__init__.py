"""edge-runtime: a team of small local models run as one, on a CPU, inside a memory budget."""
from .backends.base import CausalLM, Vocab
from .config import Config, load_config
from .errors import EdgeRuntimeError

__all__ = ["CausalLM", "Config", "EdgeRuntimeError", "Vocab", "load_config"]
__version__ = "0.1.0"
