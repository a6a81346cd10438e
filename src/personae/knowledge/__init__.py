"""Knowledge: embedding models, documents and chunks, categories and tags, collections, search."""
