-- Local development and tests only (deploy/local/infra.sh applies it to FerretDB's
-- PostgreSQL database on every start; it is idempotent).
--
-- FerretDB v1 on PostgreSQL uses its indexes only to enforce uniqueness: it turns every
-- equality filter into `(_jsonb -> 'key') @> value`, which a btree index cannot serve, so
-- every find is a sequential scan of the whole collection (8.7 ms per lookup at 1,500
-- messages, growing with the collection). MongoDB serves the same queries from the
-- indexes Parley declares. To keep local latencies and the test suite's load close to
-- what the design assumes, this event trigger gives every collection table FerretDB
-- creates a GIN index on each top-level key Parley filters by in that collection (fewer
-- indexes on the tables written on every message: each one costs every insert); a GIN
-- index answers `@>`, so those lookups become index scans (0.07 ms in the same table).
-- Parley itself still writes to the MongoDB API only and declares its own indexes there.
CREATE OR REPLACE FUNCTION parley_ferretdb_lookup_indexes() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  obj record;
  key text;
  tbl text;
  keys text[];
BEGIN
  FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    CONTINUE WHEN obj.schema_name IN ('public', 'pg_catalog', 'information_schema');
    -- FerretDB's own metadata tables are named _ferretdb_*.
    CONTINUE WHEN obj.object_identity LIKE '%._ferretdb%' OR obj.object_identity LIKE '%."_ferretdb%';
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = obj.objid AND attname = '_jsonb' AND NOT attisdropped);
    SELECT relname INTO tbl FROM pg_class WHERE oid = obj.objid;
    -- FerretDB names a collection's table <collection>_<hash>.
    keys := CASE
      WHEN tbl LIKE 'messages\_%' THEN ARRAY['_id', 'b']
      WHEN tbl LIKE 'members\_%' THEN ARRAY['_id', 'conversationId', 'userId']
      WHEN tbl LIKE 'conversations\_%' THEN ARRAY['_id']
      WHEN tbl LIKE 'heads\_%' OR tbl LIKE 'positions\_%' THEN ARRAY['_id', 'k']
      ELSE ARRAY['_id', 'conversationId', 'userId', 'b', 'k']
    END;
    FOREACH key IN ARRAY keys LOOP
      EXECUTE format('CREATE INDEX ON %s USING gin ((_jsonb -> %L))', obj.object_identity, key);
    END LOOP;
  END LOOP;
END;
$$;

DROP EVENT TRIGGER IF EXISTS parley_ferretdb_lookup_indexes;
CREATE EVENT TRIGGER parley_ferretdb_lookup_indexes ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION parley_ferretdb_lookup_indexes();
