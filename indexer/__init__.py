"""Kennisbank indexer: content files in, store and index of ``kb`` kept in step with them."""
