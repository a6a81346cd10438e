"""Long-term memory: episodes and a bi-temporal entity/relationship graph."""
