-- The Bloom filter of every communication id stored (internal/bloom), in
-- parts of a few megabytes. The ingest tests each new row's id against it:
-- only rows whose id may repeat one already seen go through the exact
-- duplicate checks in SQL. It is rewritten in the transaction of every
-- ingest, so it can never miss an id the table holds; when it is empty (a
-- data bank from before this table) it is rebuilt from communications.
CREATE TABLE id_filter (part INTEGER PRIMARY KEY, bits BLOB NOT NULL);
