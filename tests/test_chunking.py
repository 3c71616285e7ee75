from kb.chunking import chunk_document
from kb.documents import Document, Post


def doc(body, **fields):
    return Document(id="articles/x", kind="article", title="Titel", body=body, **fields)


def test_empty_document_gives_one_title_chunk():
    chunks = chunk_document(doc(""))
    assert len(chunks) == 1 and chunks[0].text == "Titel"


def test_chunks_follow_headings_and_carry_title_and_heading():
    chunks = chunk_document(doc("Intro text.\n\n## Eerste deel\n\nAlinea een.\n\n## Tweede deel\n\nAlinea twee."))
    assert [c.heading for c in chunks] == ["", "Eerste deel", "Tweede deel"]
    assert chunks[1].embed_text.startswith("Titel — Eerste deel\n")


def test_one_huge_paragraph_is_split_between_words_within_the_limit():
    words = [f"woord{i}" for i in range(1000)]
    chunks = chunk_document(doc(" ".join(words)), max_words=100)
    assert len(chunks) == 10
    assert all(len(c.text.split()) <= 100 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == words  # nothing lost, no word cut


def test_long_paragraph_prefers_sentence_ends():
    sentence = "Dit is een zin van precies tien woorden lang hier. "
    chunks = chunk_document(doc(sentence * 30), max_words=45)
    assert all(c.text.endswith("hier.") for c in chunks)


def test_code_blocks_stay_whole_and_markdown_is_stripped():
    body = "Zie [de docs](https://example.org) en **dit**:\n\n```\nterraform force-unlock LOCK_ID\n```\n"
    chunks = chunk_document(doc(body))
    text = chunks[0].text
    assert "terraform force-unlock LOCK_ID" in text and "de docs" in text
    assert "](" not in text and "**" not in text


def test_non_latin_text_without_spaces_is_chunked():
    body = "知識共有は学習文化の中心です。" * 200
    chunks = chunk_document(doc(body), max_words=50)
    assert len(chunks) > 1
    assert "".join("".join(c.text.split()) for c in chunks) == body


def test_forum_posts_become_chunks_labelled_with_author():
    thread = Document(id="forum/t", kind="forum", title="Vraag", posts=[
        Post("An", "2025-01-01", "Hoe doe ik dit?"), Post("Bo", "2025-01-02", "<p>Zo.</p>", "html", accepted=True)])
    chunks = chunk_document(thread)
    assert [c.heading for c in chunks] == ["An", "Bo (accepted answer)"]
    assert chunks[1].text == "Zo."


def test_chunk_hash_changes_with_text_only():
    a = chunk_document(doc("Alinea."))[0]
    b = chunk_document(doc("Alinea."))[0]
    c = chunk_document(doc("Andere alinea."))[0]
    assert a.hash == b.hash != c.hash
