-- Entity names as lookups compare them (lower case): the expression the name index
-- is built on.

CREATE OR REPLACE FUNCTION personae_folded(names text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
SET search_path = pg_catalog AS $$
  SELECT coalesce(array_agg(lower(n)), '{}') FROM unnest(names) AS n
$$;
