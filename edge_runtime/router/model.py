"""Router: text -> domain probabilities, from one ONNX graph, with onnxruntime alone.

The graph holds the featurization too (see train.py), so inference needs no scikit-learn. The session
runs on one thread: one short text is far too little work to spread over cores, and pinning it keeps
the router from competing with the decoder that runs next.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge_runtime.errors import ModelFileError
from edge_runtime.router.language import detect_language

BUILTIN = "builtin"
MAX_CHARS = 2000  # a longer prompt is routed on its first and last 1,000 characters (bounds latency)
_HINT = "retrain it with `edge-runtime router train`, or use the packaged one (`router.model = \"builtin\"`)"


@dataclass
class RouteDecision:
    domain: str
    probabilities: dict[str, float]
    latency_ms: float  # the whole decision: language detection and the graph
    language: str  # "en", "ja", "zh" or "ko" (see language.py); experts may be chosen by it


class Router:
    """A loaded router graph. Use `Router.load(path or "builtin")`."""

    def __init__(self, session: ort.InferenceSession, labels: list[str]) -> None:
        self._session = session
        self.labels = labels

    @classmethod
    def load(cls, path: str | Path = BUILTIN) -> Router:
        """Open a router graph; anything that is not one raises ModelFileError naming the file."""
        if str(path) == BUILTIN:
            name, data = "router.onnx (builtin)", resources.files(__package__).joinpath("router.onnx").read_bytes()
        else:
            path = Path(path)
            name = path.name
            if not path.is_file():
                raise ModelFileError(f"router file not found: {name}", _HINT)
            data = path.read_bytes()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 4  # our error says what went wrong; no native log lines on stderr
        try:
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises several unrelated types for a bad file
            reason = str(err).splitlines()[0].split(":")[-1].strip() or type(err).__name__
            raise ModelFileError(f"{name} is not a loadable ONNX model ({reason})", _HINT) from None
        labels = session.get_modelmeta().custom_metadata_map.get("edge_runtime.labels")
        inputs, outputs = session.get_inputs(), [o.name for o in session.get_outputs()]
        if not labels or len(inputs) != 1 or inputs[0].type != "tensor(string)" or "probabilities" not in outputs:
            raise ModelFileError(f"{name} is an ONNX model but not an edge-runtime router",
                                 "a router takes one string input and has a `probabilities` output; " + _HINT)
        router = cls(session, json.loads(labels))
        router.predict("")  # the first run sets up kernels; pay it here, not on the first prompt
        return router

    def predict(self, text: str) -> RouteDecision:
        """The most probable domain and every domain's probability.

        Empty or whitespace-only text is not an error: it gets the model's prior-like distribution
        (the runtime then uses whatever the top domain's experts are, as for any other text).
        """
        start = time.perf_counter()
        if len(text) > MAX_CHARS:
            text = text[: MAX_CHARS // 2] + "\n" + text[-MAX_CHARS // 2:]
        (probs,) = self._session.run(["probabilities"], {"text": np.array([text], dtype=object)})
        language = detect_language(text)
        latency_ms = (time.perf_counter() - start) * 1000.0
        probabilities = {label: float(p) for label, p in zip(self.labels, probs[0])}
        return RouteDecision(max(probabilities, key=probabilities.__getitem__), probabilities, latency_ms, language)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Domains with their probabilities, most probable first."""
        return sorted(self.predict(text).probabilities.items(), key=lambda kv: kv[1], reverse=True)
