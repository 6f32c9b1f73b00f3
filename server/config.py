"""The server's settings, read from `initializationOptions` and `workspace/didChangeConfiguration`.

docs/server-protocol.md fixes the keys; clients send camelCase and may send any subset, so every update
starts from the current settings and replaces only what it names. A bad value never stops the server:
it is reported and the old value stays, because an editor's settings file is user input.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from verifrag.errors import UserError
from verifrag.model.options import DECODERS, DTYPES

if TYPE_CHECKING:
    from verifrag.model.sampling import DecodeConfig
    from verifrag.model.stopping import StopRule

DEVICES = ("auto", "cpu", "cuda", "mps")
ACCEPTANCES = ("greedy", "typical")


@dataclass(frozen=True)
class Features:
    diagnostics: bool = True
    inline_completion: bool = True
    completion: bool = True
    module_generation: bool = True


@dataclass(frozen=True)
class ServerConfig:
    checkpoint: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    decoder: str = "auto"
    acceptance: str = "greedy"
    temperature: float = 0.7
    posterior_threshold: float = 0.09
    posterior_alpha: float = 0.3
    max_new_tokens: int = 48
    module_max_new_tokens: int = 768
    context_tokens: int = 1024
    debounce_ms: int = 120
    include_dirs: tuple[str, ...] = ()
    library_dirs: tuple[str, ...] = ()
    features: Features = field(default_factory=Features)

    @property
    def model_key(self) -> tuple[str | None, str, str]:
        """What identifies a loaded model: a change here means loading again."""
        return (self.checkpoint, self.device, self.dtype)

    def decode_config(self, max_new_tokens: int, stop_rule: "StopRule", heal_prompt: bool = False,
                      prefill_lookup: int = 0, step_lookup: int = 0) -> "DecodeConfig":
        """Decoding settings for one request: this configuration's acceptance rule, with fragment
        snapping and the closing-`endmodule` stop always on, deterministic (seed 0). `heal_prompt` for
        text cut at a cursor (inline completion), not for a prompt that ends where we ended it;
        `prefill_lookup` drafts that many tokens from the document inside the prefill pass, `step_lookup`
        with each next-token step that finds a match."""
        from verifrag.model.sampling import DecodeConfig

        return DecodeConfig(
            max_new_tokens=max_new_tokens,
            sampling=self.acceptance == "typical",
            temperature=self.temperature,
            posterior_threshold=self.posterior_threshold,
            posterior_alpha=self.posterior_alpha,
            snap_fragments=True,
            stop_at_endmodule=True,
            stop_rule=stop_rule,
            heal_prompt=heal_prompt,
            prefill_lookup=prefill_lookup,
            step_lookup=step_lookup,
            seed=0,
        )

    @property
    def wants_model(self) -> bool:
        f = self.features
        return f.inline_completion or f.completion or f.module_generation


# protocol key -> (field name, validator turning the JSON value into the field's value)
def _choice(options: tuple[str, ...]):
    def check(value: Any) -> str:
        if value not in options:
            raise UserError(f"must be one of {', '.join(options)}, not {value!r}")
        return value

    return check


def _number(minimum: float, maximum: float | None = None):
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise UserError(f"must be a number >= {minimum}, not {value!r}")
        if maximum is not None and value > maximum:
            raise UserError(f"must be at most {maximum}, not {value!r}")
        return float(value)

    return check


def _integer(minimum: int):
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise UserError(f"must be an integer >= {minimum}, not {value!r}")
        return value

    return check


def _optional_string(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UserError(f"must be a string or null, not {value!r}")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"must be a list of strings, not {value!r}")
    return tuple(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise UserError(f"must be true or false, not {value!r}")
    return value


_KEYS = {
    "checkpoint": ("checkpoint", _optional_string),
    "device": ("device", _choice(DEVICES)),
    "dtype": ("dtype", _choice(DTYPES)),
    "decoder": ("decoder", _choice(DECODERS)),
    "acceptance": ("acceptance", _choice(ACCEPTANCES)),
    "temperature": ("temperature", _number(1e-3)),
    "posteriorThreshold": ("posterior_threshold", _number(0.0, 1.0)),
    "posteriorAlpha": ("posterior_alpha", _number(0.0)),
    "maxNewTokens": ("max_new_tokens", _integer(1)),
    "moduleMaxNewTokens": ("module_max_new_tokens", _integer(1)),
    "contextTokens": ("context_tokens", _integer(16)),
    "debounceMs": ("debounce_ms", _integer(0)),
    "includeDirs": ("include_dirs", _strings),
    "libraryDirs": ("library_dirs", _strings),
}
_FEATURES = {
    "diagnostics": "diagnostics",
    "inlineCompletion": "inline_completion",
    "completion": "completion",
    "moduleGeneration": "module_generation",
}


def _flatten_features(options: Mapping[str, Any]) -> dict[str, Any]:
    """Accept both `{"features": {"diagnostics": false}}` and the dotted `{"features.diagnostics": false}`
    (VS Code's settings keep dots in key names)."""
    features: dict[str, Any] = {}
    nested = options.get("features")
    if isinstance(nested, Mapping):
        features.update(nested)
    for key, value in options.items():
        if key.startswith("features."):
            features[key[len("features.") :]] = value
    return features


def update_config(current: ServerConfig, options: Any) -> tuple[ServerConfig, list[str]]:
    """`current` with the keys in `options` applied, and one message per rejected or unknown key."""
    if options is None:
        return current, []
    if not isinstance(options, Mapping):
        return current, [f"VeriFrag settings must be an object, not {type(options).__name__}"]
    problems: list[str] = []
    changes: dict[str, Any] = {}
    for key, value in options.items():
        if key == "features" or key.startswith("features."):
            continue
        if key not in _KEYS:
            problems.append(f"unknown VeriFrag setting {key!r} ignored")
            continue
        name, check = _KEYS[key]
        try:
            changes[name] = check(value)
        except UserError as exc:
            problems.append(f"setting {key} {exc}; keeping {getattr(current, name)!r}")
    feature_changes: dict[str, bool] = {}
    for key, value in _flatten_features(options).items():
        if key not in _FEATURES:
            problems.append(f"unknown VeriFrag feature {key!r} ignored")
            continue
        try:
            feature_changes[_FEATURES[key]] = _boolean(value)
        except UserError as exc:
            problems.append(f"setting features.{key} {exc}")
    if feature_changes:
        changes["features"] = dataclasses.replace(current.features, **feature_changes)
    return dataclasses.replace(current, **changes), problems


def settings_section(params_settings: Any) -> Any:
    """The `verifrag` object inside `didChangeConfiguration`'s `settings` (clients may also send it bare)."""
    if isinstance(params_settings, Mapping) and "verifrag" in params_settings:
        return params_settings["verifrag"]
    return params_settings
