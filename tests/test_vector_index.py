import numpy as np
import pytest

from kb.embeddings import normalise
from kb.errors import IndexMismatch
from kb.storage.faiss_index import VectorIndex


def vectors(n, dim=16, seed=0):
    return normalise(np.random.default_rng(seed).normal(size=(n, dim)))


@pytest.mark.parametrize("approximate", [False, True])
def test_add_search_remove_save_load_round_trip(tmp_path, approximate):
    data = vectors(50)
    index = VectorIndex(16, approximate, {"model": "m", "chunk_words": 100})
    index.add(np.arange(100, 150), data)
    scores, ids = index.search(data[7], 3)
    assert ids[0] == 107 and scores[0] == pytest.approx(1.0, abs=1e-3)  # the exhaustive index holds half precision
    index.remove([107])
    assert 107 not in index.search(data[7], 5)[1]
    path = tmp_path / "gen.faiss"
    index.save(path)
    loaded = VectorIndex.load(path, {"model": "m", "dim": 16, "chunk_words": 100})
    assert len(loaded) == 49
    assert list(loaded.search(data[8], 1)[1]) == [108]
    assert 107 not in loaded.search(data[7], 5)[1]


def test_loading_under_other_settings_says_to_reindex(tmp_path):
    index = VectorIndex(16, False, {"model": "m", "chunk_words": 100})
    index.add(np.arange(3), vectors(3))
    index.save(tmp_path / "gen.faiss")
    with pytest.raises(IndexMismatch, match="make reindex"):
        VectorIndex.load(tmp_path / "gen.faiss", {"model": "other", "dim": 16, "chunk_words": 100})
    with pytest.raises(IndexMismatch, match="chunk_words"):
        VectorIndex.load(tmp_path / "gen.faiss", {"model": "m", "dim": 16, "chunk_words": 200})


def test_empty_index_returns_nothing():
    assert len(VectorIndex(8).search(np.ones(8, dtype=np.float32), 5)[1]) == 0


def test_exact_search_of_an_hnsw_index_is_the_flat_answer():
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((500, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(10, 510, dtype=np.int64)
    graph, flat = VectorIndex(32, approximate=True), VectorIndex(32)
    for index in (graph, flat):
        index.add(ids, vectors)
    query = vectors[3] + 0.1 * vectors[9]
    assert graph.exact(query, 10)[1].tolist() == flat.search(query, 10)[1].tolist()


@pytest.mark.parametrize("share", [0.05, 0.5, 0.9])
def test_a_filtered_exact_search_is_the_best_of_the_allowed_whatever_their_share(share):
    rng = np.random.default_rng(7)
    vectors = normalise(rng.normal(size=(2000, 32)).astype(np.float32))
    ids = np.arange(1, 2001, dtype=np.int64) * 3  # ids are not positions
    index = VectorIndex(32)
    index.add(ids, vectors)
    query = vectors[5]
    order = np.argsort(-(vectors @ query))
    # the allowed passages are the ones farthest from the query: an over-fetch finds none of them
    allowed = np.sort(ids[order[-int(2000 * share):]])
    ranking = index.search(query, 2000)[1].tolist()  # the index's own order (its vectors are fp16)
    scores, found = index.search(query, 10, allowed)
    assert found.tolist() == [i for i in ranking if i in set(allowed.tolist())][:10]
    assert np.all(np.diff(scores) <= 1e-6)
    near = np.sort(ids[order[: int(2000 * share)]])  # and the nearest ones: found by the over-fetch
    assert index.search(query, 10, near)[1].tolist() == [i for i in ranking if i in set(near.tolist())][:10]
