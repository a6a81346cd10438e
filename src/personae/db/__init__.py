"""The storage layer: engine, embedded server, declarative base, types, tenant binding."""
