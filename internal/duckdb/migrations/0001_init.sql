-- Schema of the CO data bank. Identifiers of people and employers are
-- pseudonyms (32 hex digits); no fiscal code is ever stored.

CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);

-- Codes whose values are fixed by the input format (INTERFACE.md) are ENUMs:
-- stored as small integers, read and compared as their text.
CREATE TYPE tipo_evento AS ENUM ('A', 'C', 'P', 'T', 'X', 'R');
CREATE TYPE genere AS ENUM ('M', 'F');
CREATE TYPE orario AS ENUM ('F', 'P', 'V', 'M');
CREATE TYPE si_no AS ENUM ('S', 'N');
CREATE TYPE tipo_trasformazione AS ENUM ('TD_TI', 'AP_TI', 'PT_FT', 'FT_PT', 'ALTRO');
CREATE TYPE motivo_cessazione AS ENUM ('DIMISSIONI', 'LICENZIAMENTO', 'FINE_TERMINE', 'PENSIONAMENTO', 'ALTRO');

-- One row per run of `oml ingest` that committed.
CREATE TABLE ingests (
    ingest_id   INTEGER PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    oml_version VARCHAR NOT NULL,
    files       INTEGER NOT NULL
);

-- One row per file ingested; a file is known by its sha256 and never
-- ingested twice. read = accepted + rejected + duplicates.
CREATE TABLE files (
    file_id    INTEGER PRIMARY KEY,
    ingest_id  INTEGER NOT NULL,
    path       VARCHAR NOT NULL,
    sha256     VARCHAR NOT NULL UNIQUE,
    format     VARCHAR NOT NULL,
    event_type VARCHAR,
    size       BIGINT NOT NULL,
    read       BIGINT NOT NULL,
    accepted   BIGINT NOT NULL,
    rejected   BIGINT NOT NULL,
    duplicates BIGINT NOT NULL
);

-- Every accepted communication, as decoded. seq orders them by arrival:
-- file_id << 32 | line. root_id is the communication an R or X acts on
-- (followed through chains of rectifications) and tipo_effettivo the event
-- type of that root; both are NULL for A, C, P, T, which are their own root.
-- active marks the rows that make up the current events: the latest version
-- of every communication that was not cancelled. Open-data rows have no ids.
CREATE TABLE communications (
    comm_id             VARCHAR,
    tipo                tipo_evento NOT NULL,
    rif                 VARCHAR,
    rel_id              VARCHAR,
    data                DATE,
    worker              VARCHAR,
    employer            VARCHAR,
    genere              genere,
    anno_nascita        SMALLINT,
    eta                 SMALLINT,
    cittadinanza        VARCHAR,
    titolo_studio       TINYINT,
    comune_lavoro       VARCHAR,
    prov_lavoro         VARCHAR,
    comune_residenza    VARCHAR,
    prov_residenza      VARCHAR,
    ateco               VARCHAR,
    professione         VARCHAR,
    contratto           VARCHAR,
    orario              orario,
    data_fine_prevista  DATE,
    tipo_trasformazione tipo_trasformazione,
    motivo_cessazione   motivo_cessazione,
    categoria_protetta  si_no,
    hash                UBIGINT NOT NULL,
    seq                 BIGINT NOT NULL,
    root_id             VARCHAR,
    tipo_effettivo      tipo_evento,
    active              BOOLEAN NOT NULL
);

-- Every rejected row with its reason; raw has fiscal codes pseudonymised.
CREATE TABLE rejects (
    file_id INTEGER NOT NULL,
    line    BIGINT NOT NULL,
    col     VARCHAR,
    reason  VARCHAR NOT NULL,
    detail  VARCHAR,
    raw     VARCHAR
);

-- Exact resends of a communication already received: counted once.
CREATE TABLE duplicates (
    file_id INTEGER NOT NULL,
    line    BIGINT NOT NULL,
    comm_id VARCHAR NOT NULL,
    first_seq BIGINT
);

-- The current events: A, C, P, T after rectifications and cancellations.
CREATE VIEW events AS
SELECT coalesce(root_id, comm_id) AS comm_id, coalesce(tipo_effettivo, tipo) AS tipo, rel_id, data, worker, employer,
       genere, anno_nascita, eta, cittadinanza, titolo_studio, comune_lavoro, prov_lavoro,
       comune_residenza, prov_residenza, ateco, professione, contratto, orario,
       data_fine_prevista, tipo_trasformazione, motivo_cessazione, categoria_protetta,
       (seq >> 32)::INTEGER AS file_id, seq & 4294967295 AS line, seq, tipo = 'R' AS rettificato
FROM communications
WHERE active;

-- Employment relationships, rebuilt from their current events after every
-- ingest (those the ingest touched). The table keeps what is aggregated over
-- the events and points (hire_seq) at the communication that carries the
-- attributes of the hire: the A, or for a relationship whose A predates the
-- archive its first event. The view relationships joins the two, so no
-- attribute is stored twice.
CREATE TABLE relationship_index (
    rel_id                 VARCHAR NOT NULL,
    hire_seq               BIGINT NOT NULL,
    has_a                  BOOLEAN NOT NULL,
    data_inizio            DATE,
    primo_evento           DATE NOT NULL,
    contratto              VARCHAR,
    orario                 orario,
    fine_prevista          DATE,
    data_cessazione        DATE,
    motivo_cessazione      motivo_cessazione,
    data_trasformazione_ti DATE,
    n_eventi               INTEGER NOT NULL,
    n_cessazioni           INTEGER NOT NULL,
    n_proroghe             INTEGER NOT NULL,
    n_trasformazioni       INTEGER NOT NULL
);

CREATE VIEW relationships AS
SELECT r.rel_id, h.worker, h.employer, r.has_a, r.data_inizio, r.primo_evento,
       CASE WHEN r.has_a THEN h.contratto END AS contratto_iniziale, r.contratto, r.orario,
       r.fine_prevista, r.data_cessazione, r.motivo_cessazione, r.data_trasformazione_ti,
       r.n_eventi, r.n_cessazioni, r.n_proroghe, r.n_trasformazioni,
       h.genere, h.anno_nascita, h.cittadinanza, h.titolo_studio, h.comune_lavoro, h.prov_lavoro,
       h.comune_residenza, h.prov_residenza, h.ateco, h.professione
FROM relationship_index r JOIN communications h ON h.seq = r.hire_seq;
