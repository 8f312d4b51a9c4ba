"""The TOML manifest: experts, their drafts, the router, the memory budget and threads.

A user's file is merged over the packaged `default.toml` (set `inherit = false` to start empty).
Unknown keys are errors with a did-you-mean, because a typo that is silently ignored costs hours.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from edge_runtime.models.backends import is_onnx
from edge_runtime.models.backends.base import KV_TYPES
from edge_runtime.errors import ConfigError
from edge_runtime.memory.budget import parse_size
from edge_runtime.tuning.layouts import check_layout
from edge_runtime.tomlio import load_toml_text

DOMAINS = ("code", "math", "writing", "general")
DRAFT_MODES = ("auto", "none", "lookup", "model")
VERIFY_MODES = ("auto", "exact", "fast")  # auto: what `edge-runtime tune` measured faster, else exact
FUSION_MODES = ("auto", "mixture", "best-of", "verify")  # auto: verify where there is evidence and code may run
CAPABILITIES = ("tools", "json")  # structured replies: tool calls, JSON under a schema
MAX_PARALLEL = 16  # lanes: each holds a whole context of KV cache
EXECUTE_CODE = ("auto", True, False)  # auto: only inside the kernel's fence (`edge-runtime sandbox check`)


@dataclass
class ExpertConfig:
    name: str
    model: str
    domains: list[str] = field(default_factory=list)
    draft: str = ""  # a model reference for `--draft model|auto`; empty: lookup only
    context: int = 0  # 0: the runtime's `context`
    description: str = ""
    tokenizer: str = ""  # ONNX experts without a tokenizer.json: a GGUF of the same family
    languages: list[str] = field(default_factory=list)  # languages it reads ("en", "ja", ...); empty: any
    rpc: list[str] = field(default_factory=list)  # "host:port" of llama.cpp RPC servers that hold layers
    tensor_split: list[float] = field(default_factory=list)  # shares: this machine first, then each remote
    # device; empty: every layer remote, in proportion to the devices' free memory
    gpu_layers: int | str = field(default=0, metadata={"types": (int, str)})  # on the accelerator: 0, N or "all"
    main_gpu: int = 0  # which GPU (llama.cpp's order, `edge-runtime devices`) holds the offloaded layers
    layout: str = ""  # a layout variant to load ("Q4_0", see layouts.py); "": the file as it is, or tune's choice
    capabilities: list[str] = field(default_factory=list)  # structured replies it serves: "tools", "json"

    def reads(self, language: str) -> bool:
        return not self.languages or language in self.languages

    @property
    def n_gpu_layers(self) -> int:
        """gpu_layers as llama.cpp takes it: -1 for all."""
        return -1 if self.gpu_layers == "all" else int(self.gpu_layers)


@dataclass
class RouterConfig:
    model: str = "builtin"  # the packaged router.onnx, or a path
    threshold: float = 0.5  # below this top probability the runtime fuses the top experts


@dataclass
class SpeculativeConfig:
    draft: str = "auto"
    verify: str = "auto"  # exact: output identical to plain greedy; fast: long drafts, any kernel; auto: tuned
    max_draft: int = 4  # longest draft in exact mode; the target's measured bit-exact verify batch caps it
    fast_max_draft: int = 16  # longest draft in fast mode
    min_draft: int = 0  # verify at least this many proposed tokens (0: only what the measured costs say pays)
    ngram_max: int = 4  # prompt lookup: longest n-gram matched
    ngram_min: int = 3  # shorter matches were right under half the time and cost more than they gained
    p_min: float = 0.5  # a model draft stops proposing below this probability
    history: int = 16384  # tokens of earlier prompts and replies lookup drafts from (0: this request only)


@dataclass
class SamplingConfig:
    """Decoding defaults for requests that leave them open (small models loop under plain greedy)."""

    repeat_penalty: float = 1.0  # 1.0: off (the packaged default.toml sets 1.1)
    repeat_last_n: int = 64
    dry_multiplier: float = 0.0  # DRY, llama.cpp's repeat-sequence penalty; 0: off
    dry_base: float = 1.75
    dry_allowed_length: int = 2
    japanese_mask: bool = False  # Japanese replies may not write Chinese-only characters (default.toml: on)
    language_hint: bool = False  # a system message asking for the prompt's language where one is known to
    # be needed (Japanese; default.toml: on)
    shape_guide: bool = False  # decoding honours what it can of a prompt's stated shape: a phrase to start or end
    # with, a count of sentences or list items not exceeded, lowercase (default.toml: on)


@dataclass
class Config:
    experts: dict[str, ExpertConfig]
    router: RouterConfig = field(default_factory=RouterConfig)
    speculative: SpeculativeConfig = field(default_factory=SpeculativeConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    default_expert: str = ""  # serves domains no expert lists; "" = the first expert
    threads: int = 0  # 0: physical cores
    context: int = 4096
    batch: int = 512
    memory_budget: str = "auto"
    kv_type: str = "f16"
    mmap: bool = True
    mlock: bool = False
    repack: bool = False  # with tuned off: llama.cpp's repacked CPU weights (loaded with mmap off: no second copy)
    tuned: bool = True  # each GGUF loads as measured here: first-load probe (repack), or tune's profile (layout,
    # repack, verify default, cost curve)
    max_layout_loss: float = 0.05  # the most perplexity loss (0.05: 5%) tune accepts for a layout variant
    providers: list[str] = field(default_factory=lambda: ["cpu"])  # ONNX execution providers, preferred first
    fusion: str = "auto"  # how unsure routes are answered: mixture (best-of when it cannot), best-of, verify;
    # auto: verify a prompt with evidence (examples to run, a number) where code may run, else mixture
    fusion_experts: int = 2  # experts fused when the router is unsure
    fusion_max_candidates: int = 4  # verify: answers generated at most per prompt
    fusion_time_s: float = 120.0  # verify: no candidate is started after this many seconds
    execute_code: str | bool = field(default="auto", metadata={"types": (str, bool)})  # verify: run model code
    # in the sandbox: auto (only where the kernel fence holds), true (even without it, warned), false
    cascade: list[str] = field(default_factory=list)  # prose: these experts answer in turn, cheapest first,
    # until a reply passes its checks (shape asked, no loop or echo, the prompt's language); [] routes as usual
    cascade_repair: bool = False  # when no reply of the cascade passes, the last expert rewrites its own once,
    # told what the checks found missing
    gpu_memory_budget: str = "auto"  # device bytes offloaded layers may take on the main GPU: auto (90% free), 80%, 6GB
    prefix_cache: str = "1GB"  # KV states of earlier prompts kept in memory (inside memory_budget); "0": off
    prefix_spill: str = "0"  # the same written to $EDGE_RUNTIME_HOME/prefix, at most this size; "0": off
    parallel: int = 1  # serve: requests decoded together (continuous batching), each in its own KV lane

    def experts_for(self, domain: str) -> list[str]:
        """Experts that serve a domain, in config order; the fallback when none does."""
        names = [e.name for e in self.experts.values() if domain in e.domains]
        return names or [self.default_expert or next(iter(self.experts))]

    def capable(self, need: str) -> list[str]:
        """Experts that declare `need` ("tools", "json") in config order; every expert when none declares
        anything (a config written before capabilities existed routes structured requests as before)."""
        if not any(e.capabilities for e in self.experts.values()):
            return list(self.experts)
        return [e.name for e in self.experts.values() if need in e.capabilities]

    def expert(self, name: str) -> ExpertConfig:
        if name not in self.experts:
            raise ConfigError(f"unknown expert {name!r}", "configured experts: " + ", ".join(self.experts))
        return self.experts[name]


def _check_keys(table: dict[str, Any], allowed: list[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "allowed keys: " + ", ".join(allowed)
            raise ConfigError(f"{where}: unknown key {key!r}", hint)


def _names(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


def _build(cls: type, table: dict[str, Any], where: str, **extra: Any) -> Any:
    allowed = [n for n in _names(cls) if n not in extra]
    _check_keys(table, allowed, where)
    obj = cls(**extra, **table)
    for f in fields(cls):
        value, default = getattr(obj, f.name), f.default
        types = f.metadata.get("types", type(default))
        if isinstance(default, (int, float, str, bool)) and not isinstance(value, types):
            if not (isinstance(default, float) and isinstance(value, int)):
                raise ConfigError(f"{where}.{f.name}: expected {type(default).__name__}, got {value!r}")
    return obj


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def default_config_text() -> str:
    return resources.files("edge_runtime").joinpath("default.toml").read_text("utf-8")


def parse_config(raw: dict[str, Any], origin: str) -> Config:
    raw = dict(raw)
    experts_raw = raw.pop("experts", {})
    router_raw = dict(raw.pop("router", {}))
    if "fallback" in router_raw:  # the old spelling of default_expert, still read
        raw["default_expert"] = router_raw.pop("fallback")
    router = _build(RouterConfig, router_raw, f"{origin} [router]")
    spec = _build(SpeculativeConfig, raw.pop("speculative", {}), f"{origin} [speculative]")
    sampling = _build(SamplingConfig, raw.pop("sampling", {}), f"{origin} [sampling]")
    experts = {name: _build(ExpertConfig, table, f"{origin} [experts.{name}]", name=name)
               for name, table in experts_raw.items()}
    cfg = _build(Config, raw, origin, experts=experts, router=router, speculative=spec, sampling=sampling)
    _validate(cfg, origin)
    return cfg


def _validate(cfg: Config, origin: str) -> None:
    if not cfg.experts:
        raise ConfigError(f"{origin}: no experts configured", "add an [experts.NAME] table with a `model`")
    for exp in cfg.experts.values():
        if exp.gpu_layers != "all" and (isinstance(exp.gpu_layers, (str, bool)) or exp.gpu_layers < -1):
            raise ConfigError(f"expert {exp.name!r}: gpu_layers must be 0, a number of layers, or \"all\"",
                              f"got {exp.gpu_layers!r}")
        bad = [d for d in exp.domains if d not in DOMAINS]
        if bad:
            raise ConfigError(f"expert {exp.name!r}: unknown domain {bad[0]!r}", "domains: " + ", ".join(DOMAINS))
        odd = [c for c in exp.capabilities if c not in CAPABILITIES]
        if odd:
            raise ConfigError(f"expert {exp.name!r}: unknown capability {odd[0]!r}", "capabilities: " + ", ".join(CAPABILITIES))
    for exp in cfg.experts.values():
        _validate_rpc(exp)
        _validate_layout(exp)
    if cfg.default_expert and cfg.default_expert not in cfg.experts:
        raise ConfigError(f"{origin}: default_expert {cfg.default_expert!r} is not configured",
                          "configured experts: " + ", ".join(cfg.experts))
    if cfg.kv_type not in KV_TYPES:
        raise ConfigError(f"{origin}: unknown kv_type {cfg.kv_type!r}", "use one of " + ", ".join(KV_TYPES))
    if cfg.speculative.draft not in DRAFT_MODES:
        raise ConfigError(f"{origin}: speculative.draft must be one of {', '.join(DRAFT_MODES)}")
    if cfg.speculative.verify not in VERIFY_MODES:
        raise ConfigError(f"{origin}: speculative.verify must be one of {', '.join(VERIFY_MODES)}")
    if cfg.fusion not in FUSION_MODES:
        raise ConfigError(f"{origin}: fusion must be one of {', '.join(FUSION_MODES)}, got {cfg.fusion!r}")
    if cfg.execute_code not in EXECUTE_CODE:  # 1/0 never get here: _build wants a str or a bool
        raise ConfigError(f"{origin}: execute_code must be \"auto\", true or false, got {cfg.execute_code!r}",
                          "auto runs model code only inside the kernel's fence: see `edge-runtime sandbox check`")
    if cfg.fusion_max_candidates < 1 or cfg.fusion_time_s <= 0:
        raise ConfigError(f"{origin}: fusion_max_candidates must be >= 1 and fusion_time_s > 0")
    if cfg.max_layout_loss < 0:
        raise ConfigError(f"{origin}: max_layout_loss must be >= 0, got {cfg.max_layout_loss}",
                          "it is a relative perplexity loss: 0.05 accepts a variant up to 5% worse")
    unknown = [name for name in cfg.cascade if name not in cfg.experts]
    if unknown:
        raise ConfigError(f"{origin}: cascade names unknown expert {unknown[0]!r}",
                          "configured experts: " + ", ".join(cfg.experts))
    if cfg.sampling.repeat_penalty <= 0 or cfg.sampling.repeat_last_n < 0:
        raise ConfigError(f"{origin}: [sampling] repeat_penalty must be > 0 and repeat_last_n >= 0",
                          "repeat_penalty = 1.0 turns the penalty off")
    for key in ("prefix_cache", "prefix_spill"):
        parse_size(getattr(cfg, key))  # refuses "1 gig" here rather than at the first request
    if cfg.context < 64:
        raise ConfigError(f"{origin}: context {cfg.context} is too small", "use at least 64 tokens")
    if not 1 <= cfg.parallel <= MAX_PARALLEL:
        raise ConfigError(f"{origin}: parallel must be between 1 and {MAX_PARALLEL}, got {cfg.parallel}",
                          "parallel = 1 answers one request at a time")


def _validate_rpc(exp: ExpertConfig) -> None:
    from edge_runtime.rpc.endpoints import parse_endpoint

    for endpoint in exp.rpc:
        parse_endpoint(endpoint)
    if exp.tensor_split and (not exp.rpc or any(s < 0 for s in exp.tensor_split)):
        raise ConfigError(f"expert {exp.name!r}: tensor_split needs `rpc` servers and non-negative shares",
                          "e.g. rpc = [\"192.168.1.20:50052\"] with tensor_split = [1, 3]")
    if exp.rpc and is_onnx(exp.model):
        raise ConfigError(f"expert {exp.name!r}: RPC devices serve GGUF models only", "drop `rpc` or use a GGUF")


def _validate_layout(exp: ExpertConfig) -> None:
    check_layout(exp.layout, f"expert {exp.name!r}")
    if exp.layout and is_onnx(exp.model):
        raise ConfigError(f"expert {exp.name!r}: layout variants are GGUF files; {exp.model} is ONNX",
                          "drop `layout` or use a GGUF model")


def load_config(path: str | Path | None = None) -> Config:
    """The packaged defaults, with the user's file (if any) merged over them."""
    raw = load_toml_text(default_config_text(), "default.toml")
    origin = "default.toml"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}", "give the path of a TOML file")
        user = load_toml_text(path.read_text("utf-8"), path.name)
        origin = path.name
        inherit = user.pop("inherit", True)
        raw = _merge(raw, user) if inherit else user
    return parse_config(raw, origin)
