//! Schema migrations, the same list for both backends.
//!
//! `MIGRATIONS[i]` takes the database from version `i` to version `i + 1`.
//! Each one is written once, in SQLite's spelling (exactly what shipped
//! before PostgreSQL support); PostgreSQL runs it through the named
//! substitutions of [`Dialect::ddl`](super::backend::Dialect) (id column,
//! current time, INTEGER/REAL/BLOB → BIGINT/DOUBLE PRECISION/BYTEA).
//! Each runs in its own transaction together with the version record
//! (`PRAGMA user_version` on SQLite, the `adstudio_schema` table on
//! PostgreSQL), so a crash mid-migration leaves the previous version
//! intact. Never edit a migration that has shipped; append a new one.

use std::path::Path;

use super::backend::{Db, DbError, DbErrorKind, Dialect};
use super::error::StoreError;

/// `PRAGMA application_id` of adstudio databases ("ADST" in ASCII), so a
/// foreign SQLite file is never mistaken for ours. On PostgreSQL the same
/// number is kept in `adstudio_schema` and used as the migration lock.
pub const APPLICATION_ID: i64 = 0x4144_5354;

/// The schema migrations, oldest first, in SQLite's spelling.
pub const MIGRATIONS: &[&str] = &[
    // Version 1: the initial schema.
    r#"
CREATE TABLE products (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    title                TEXT    NOT NULL,
    source_name          TEXT    NOT NULL,
    image_hash           TEXT    NOT NULL CHECK (length(image_hash) = 64),
    image_ext            TEXT    NOT NULL CHECK (image_ext <> ''),
    width                INTEGER NOT NULL CHECK (width > 0),
    height               INTEGER NOT NULL CHECK (height > 0),
    has_transparency     INTEGER NOT NULL CHECK (has_transparency IN (0, 1)),
    mask_settings_json   TEXT    NOT NULL CHECK (json_valid(mask_settings_json)),
    mask_edits_json      TEXT    NOT NULL CHECK (json_valid(mask_edits_json)),
    canvas_settings_json TEXT    NOT NULL CHECK (json_valid(canvas_settings_json)),
    created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX products_image_hash ON products (image_hash);
CREATE INDEX products_created ON products (created_at, id);

CREATE TABLE renders (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id     INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    params_json    TEXT    NOT NULL CHECK (json_valid(params_json)),
    seed           INTEGER NOT NULL,
    model_ids_json TEXT    NOT NULL CHECK (json_valid(model_ids_json)),
    image_hash     TEXT    NOT NULL CHECK (length(image_hash) = 64),
    image_path     TEXT    NOT NULL CHECK (image_path <> ''),
    width          INTEGER NOT NULL CHECK (width > 0),
    height         INTEGER NOT NULL CHECK (height > 0),
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX renders_product ON renders (product_id, created_at);
CREATE INDEX renders_image_hash ON renders (image_hash);

CREATE TABLE scores (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    render_id    INTEGER NOT NULL REFERENCES renders (id) ON DELETE CASCADE,
    model_id     TEXT    NOT NULL CHECK (model_id <> ''),
    score        REAL    NOT NULL,
    ctr          REAL    CHECK (ctr IS NULL OR (ctr >= 0.0 AND ctr <= 1.0)),
    details_json TEXT    NOT NULL CHECK (json_valid(details_json)),
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX scores_render ON scores (render_id, model_id);

CREATE TABLE preferences (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    render_a   INTEGER NOT NULL REFERENCES renders (id) ON DELETE RESTRICT,
    render_b   INTEGER NOT NULL REFERENCES renders (id) ON DELETE RESTRICT,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('a', 'b', 'tie', 'cant_tell', 'skip')),
    source     TEXT    NOT NULL CHECK (source IN ('human', 'model')),
    labeler    TEXT    NOT NULL CHECK (labeler <> ''),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (render_a <> render_b)
);
CREATE INDEX preferences_render_a ON preferences (render_a);
CREATE INDEX preferences_render_b ON preferences (render_b);
CREATE INDEX preferences_labeler ON preferences (labeler, id);

CREATE TABLE training_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL CHECK (kind <> ''),
    config_json  TEXT    NOT NULL CHECK (json_valid(config_json)),
    status       TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    metrics_json TEXT    NOT NULL CHECK (json_valid(metrics_json)),
    started_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at  TEXT,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX training_runs_started ON training_runs (started_at, id);

CREATE TABLE adapters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    training_run_id INTEGER REFERENCES training_runs (id) ON DELETE SET NULL,
    name            TEXT    NOT NULL CHECK (name <> ''),
    base_model      TEXT    NOT NULL CHECK (base_model <> ''),
    path            TEXT    NOT NULL CHECK (path <> ''),
    config_json     TEXT    NOT NULL CHECK (json_valid(config_json)),
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX adapters_training_run ON adapters (training_run_id);
CREATE INDEX adapters_created ON adapters (created_at, id);
"#,
    // Version 2: which source the product's base mask came from, as the
    // studio resolved it (alpha, keyed backdrop or salient-object model).
    r#"
ALTER TABLE products ADD COLUMN mask_source TEXT
    CHECK (mask_source IS NULL OR mask_source IN ('alpha', 'key', 'saliency'));
"#,
    // Version 3: imported click logs (one row per import) and the creatives
    // they brought in (unique creative ids across all imports; the ad image
    // is copied into the content-addressed image store).
    r#"
CREATE TABLE click_imports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    file          TEXT    NOT NULL CHECK (file <> ''),
    format        TEXT    NOT NULL CHECK (format IN ('csv', 'jsonl')),
    rows_ok       INTEGER NOT NULL CHECK (rows_ok >= 0),
    rows_rejected INTEGER NOT NULL CHECK (rows_rejected >= 0),
    imported_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE creatives (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    creative_id TEXT    NOT NULL UNIQUE CHECK (creative_id <> ''),
    product_key TEXT    NOT NULL CHECK (product_key <> ''),
    image_hash  TEXT    NOT NULL CHECK (length(image_hash) = 64),
    image_ext   TEXT    NOT NULL CHECK (image_ext <> ''),
    source_path TEXT    NOT NULL,
    impressions INTEGER NOT NULL CHECK (impressions > 0),
    clicks      INTEGER NOT NULL CHECK (clicks >= 0 AND clicks <= impressions),
    import_id   INTEGER NOT NULL REFERENCES click_imports (id) ON DELETE CASCADE,
    line        INTEGER NOT NULL CHECK (line > 0)
);
CREATE INDEX creatives_product ON creatives (product_key, id);
CREATE INDEX creatives_import ON creatives (import_id);
"#,
    // Version 4: preference labels on renders or on imported creatives,
    // with the side each item was shown on; undo writes a retraction
    // instead of deleting (the history is kept).
    r#"
CREATE TABLE preferences_v4 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    render_a   INTEGER REFERENCES renders (id) ON DELETE RESTRICT,
    render_b   INTEGER REFERENCES renders (id) ON DELETE RESTRICT,
    creative_a INTEGER REFERENCES creatives (id) ON DELETE RESTRICT,
    creative_b INTEGER REFERENCES creatives (id) ON DELETE RESTRICT,
    left_is_a  INTEGER CHECK (left_is_a IS NULL OR left_is_a IN (0, 1)),
    outcome    TEXT    NOT NULL CHECK (outcome IN ('a', 'b', 'tie', 'cant_tell', 'skip')),
    source     TEXT    NOT NULL CHECK (source IN ('human', 'model')),
    labeler    TEXT    NOT NULL CHECK (labeler <> ''),
    model_p_a  REAL    CHECK (model_p_a IS NULL OR (model_p_a >= 0.0 AND model_p_a <= 1.0)),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((render_a IS NOT NULL AND render_b IS NOT NULL AND render_a <> render_b
            AND creative_a IS NULL AND creative_b IS NULL)
        OR (creative_a IS NOT NULL AND creative_b IS NOT NULL AND creative_a <> creative_b
            AND render_a IS NULL AND render_b IS NULL))
);
INSERT INTO preferences_v4 (id, render_a, render_b, outcome, source, labeler, created_at)
    SELECT id, render_a, render_b, outcome, source, labeler, created_at FROM preferences;
DROP TABLE preferences;
ALTER TABLE preferences_v4 RENAME TO preferences;
CREATE INDEX preferences_render_a ON preferences (render_a);
CREATE INDEX preferences_render_b ON preferences (render_b);
CREATE INDEX preferences_creative_a ON preferences (creative_a);
CREATE INDEX preferences_creative_b ON preferences (creative_b);
CREATE INDEX preferences_labeler ON preferences (labeler, id);

CREATE TABLE preference_retractions (
    preference_id INTEGER PRIMARY KEY REFERENCES preferences (id) ON DELETE RESTRICT,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"#,
    // Version 5: the refined product mask (source pixels, a PNG in the image
    // store) each render was placed with, so the winner export re-derives
    // the product's placement exactly even after the mask was edited.
    r#"
CREATE TABLE render_masks (
    render_id  INTEGER PRIMARY KEY REFERENCES renders (id) ON DELETE CASCADE,
    mask_hash  TEXT    NOT NULL CHECK (length(mask_hash) = 64),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"#,
    // Version 6: the suggestions a catalog batch rendered, per product and
    // settings (title, category, count, seed, prompt model, adapter), so a
    // rerun of the same batch reuses them instead of sampling again.
    r#"
CREATE TABLE batch_suggestions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id    INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    settings_json TEXT    NOT NULL CHECK (json_valid(settings_json)),
    idx           INTEGER NOT NULL CHECK (idx >= 0),
    text          TEXT    NOT NULL CHECK (text <> ''),
    prompt_model  TEXT    NOT NULL CHECK (prompt_model <> ''),
    adapter       TEXT,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (product_id, settings_json, idx)
);
"#,
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Run once on an empty PostgreSQL schema before migration 1: SQLite's
/// `json_valid` (so the CHECKs read the same) and the version record.
const POSTGRES_BOOTSTRAP: &str = r#"
CREATE FUNCTION json_valid(doc TEXT) RETURNS BOOLEAN LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM doc::json;
    RETURN TRUE;
EXCEPTION WHEN others THEN
    RETURN FALSE;
END
$$;
CREATE TABLE adstudio_schema (
    application_id BIGINT NOT NULL,
    version        BIGINT NOT NULL
);
"#;

/// What the database says about itself before we touch it.
pub(crate) struct Header {
    /// SQLite's `PRAGMA application_id`; PostgreSQL's recorded id (0 when
    /// there is no `adstudio_schema` table).
    pub application_id: i64,
    /// The schema version (`PRAGMA user_version` / `adstudio_schema`).
    pub user_version: i64,
    /// Number of tables and other schema objects already there.
    pub schema_objects: i64,
}

fn single_int(db: &Db, sql: &str) -> Result<i64, DbError> {
    let rows = db.query(sql, &[])?;
    match rows.first() {
        Some(row) => Ok(row.get(0)?),
        None => Ok(0),
    }
}

/// Reads the header fields without writing anything.
pub(crate) fn read_header(db: &Db) -> Result<Header, DbError> {
    match db.dialect() {
        Dialect::Sqlite => Ok(Header {
            application_id: single_int(db, "PRAGMA application_id")?,
            user_version: single_int(db, "PRAGMA user_version")?,
            schema_objects: single_int(db, "SELECT count(*) FROM sqlite_schema")?,
        }),
        Dialect::Postgres => {
            // The job queue's table (`crate::queue`) shares the database
            // and may be created first: it does not make the database
            // foreign.
            let schema_objects = single_int(
                db,
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name <> 'queue_jobs'",
            )?;
            let has_record = single_int(
                db,
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'adstudio_schema'",
            )? > 0;
            let (application_id, user_version) = if has_record {
                let rows = db.query(
                    "SELECT application_id, version FROM adstudio_schema \
                     ORDER BY version DESC LIMIT 1",
                    &[],
                )?;
                match rows.first() {
                    Some(row) => (row.get(0)?, row.get(1)?),
                    None => (APPLICATION_ID, 0),
                }
            } else {
                (0, 0)
            };
            Ok(Header {
                application_id,
                user_version,
                schema_objects,
            })
        }
    }
}

/// Refuses databases that are not ours or that are newer than this build.
pub(crate) fn check_header(path: &Path, header: &Header) -> Result<(), StoreError> {
    let foreign = |reason: String| StoreError::NotAdstudioDatabase {
        path: path.to_path_buf(),
        reason,
    };
    if header.application_id != 0 && header.application_id != APPLICATION_ID {
        return Err(foreign(format!(
            "application_id is {:#x}, expected {APPLICATION_ID:#x}",
            header.application_id
        )));
    }
    if header.application_id == 0 && (header.user_version != 0 || header.schema_objects != 0) {
        return Err(foreign(format!(
            "it has {} schema objects and user_version {} but no adstudio application_id",
            header.schema_objects, header.user_version
        )));
    }
    if header.user_version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_path_buf(),
            found: header.user_version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Applies every migration past `from_version`, one transaction each.
pub(crate) fn migrate(db: &Db, path: &Path, from_version: i64) -> Result<(), StoreError> {
    for (index, template) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= from_version {
            continue;
        }
        let fail = |source: DbError| match source.kind() {
            DbErrorKind::DiskFull => StoreError::DiskFull {
                path: path.to_path_buf(),
                table: "sqlite_schema",
            },
            _ => StoreError::Migration {
                path: path.to_path_buf(),
                version,
                source,
            },
        };
        db.begin().map_err(fail)?;
        if let Err(e) = apply(db, version, template).and_then(|()| db.commit()) {
            db.rollback();
            return Err(fail(e));
        }
    }
    Ok(())
}

/// One migration and its version record, inside the caller's write
/// transaction. Several clients may open a new database at once: the
/// first holds the write lock (SQLite's `BEGIN IMMEDIATE`, an advisory
/// lock on PostgreSQL), the others wait and then find the version there.
fn apply(db: &Db, version: i64, template: &str) -> Result<(), DbError> {
    let dialect = db.dialect();
    if dialect == Dialect::Postgres {
        db.execute_batch(&format!("SELECT pg_advisory_xact_lock({APPLICATION_ID})"))?;
    }
    if read_header(db)?.user_version >= version {
        return Ok(());
    }
    if dialect == Dialect::Postgres && version == 1 {
        db.execute_batch(POSTGRES_BOOTSTRAP)?;
    }
    db.execute_batch(&dialect.ddl(template))?;
    db.execute_batch(&match dialect {
        Dialect::Sqlite => {
            format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {version};")
        }
        Dialect::Postgres => format!(
            "DELETE FROM adstudio_schema; \
             INSERT INTO adstudio_schema (application_id, version) \
             VALUES ({APPLICATION_ID}, {version});"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite runs the migrations as written; PostgreSQL's text has no
    /// SQLite-only spelling left.
    #[test]
    fn sqlite_migrations_run_as_written_and_postgres_gets_no_sqlite_types() {
        for template in MIGRATIONS {
            assert_eq!(Dialect::Sqlite.ddl(template), *template);
            let pg = Dialect::Postgres.ddl(template);
            assert!(
                !pg.contains("AUTOINCREMENT") && !pg.contains("strftime"),
                "{pg}"
            );
            assert!(!pg.contains(" INTEGER ") && !pg.contains(" REAL "), "{pg}");
        }
    }
}
