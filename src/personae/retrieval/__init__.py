"""Retrieval machinery knowledge and memory share: embedding models, the hybrid search
statement, chunking and token counts, summaries, and finding names in text."""
