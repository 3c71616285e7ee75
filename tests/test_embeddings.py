import numpy as np
import pytest

from kb.embeddings import CombinedEmbedder, HashingEmbedder


def test_combined_model_scores_the_weighted_mean_of_its_models_cosines():
    small, large = HashingEmbedder(dim=64), HashingEmbedder(dim=128)
    combined = CombinedEmbedder(small, large, weights=(0.3, 0.7))
    query, passage = "incident commander role", "who leads the incident call and keeps the timeline"
    expected = (0.3 * float(small.embed_queries([query])[0] @ small.embed_passages([passage])[0])
                + 0.7 * float(large.embed_queries([query])[0] @ large.embed_passages([passage])[0]))
    score = float(combined.embed_queries([query])[0] @ combined.embed_passages([passage])[0])
    assert score == pytest.approx(expected, abs=1e-5)
    assert combined.dim == 192
    assert np.linalg.norm(combined.embed_passages([passage])[0]) == pytest.approx(1.0, abs=1e-5)


def test_combined_model_without_weights_averages_and_rejects_bad_weights():
    small, large = HashingEmbedder(dim=64), HashingEmbedder(dim=128)
    assert CombinedEmbedder(small, large).weights == (0.5, 0.5)
    for weights in [(1.0,), (-0.2, 1.2), (0.0, 0.0)]:
        with pytest.raises(ValueError):
            CombinedEmbedder(small, large, weights=weights)

