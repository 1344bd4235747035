//! A storage index the local broker lacks. nisshi 0.7.0-pre.2 looks up each fetched record's
//! headers with a query on `header (topition, offset_id)`, a table with no index, so every fetched
//! record scans every header ever stored: a fetch gets slower with each record written, and a
//! worker that writes headers (event ids, changelog positions) slows its own consumer down
//! quadratically. Measured with `make bench`: 50,000 payments did not finish in 120 s without it,
//! and took 41 s with it. The index changes no data and no query result.

use std::path::Path;

use crate::error::DevstackError;

/// Creates the header index in the broker database (idempotent). Call while no broker runs.
pub(crate) fn index_record_headers(db: &Path) -> Result<(), DevstackError> {
    let err = |source| DevstackError::StorageIndex {
        path: db.to_path_buf(),
        source,
    };
    let conn = rusqlite::Connection::open(db).map_err(err)?;
    conn.execute_batch("create index if not exists header_topition_offset_id on header (topition, offset_id);")
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_table_gets_its_lookup_index_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("broker.db");
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.execute_batch("create table header (topition integer, offset_id integer, k blob, v blob);")
            .expect("schema");
        index_record_headers(&db).expect("index");
        index_record_headers(&db).expect("a second run is harmless");
        let sql: String = conn
            .query_row(
                "select sql from sqlite_master where type = 'index' and tbl_name = 'header'",
                [],
                |r| r.get(0),
            )
            .expect("index present");
        assert!(sql.contains("(topition, offset_id)"), "{sql}");
    }

    #[test]
    fn a_database_without_the_table_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("empty.db");
        let e = index_record_headers(&db).expect_err("no header table");
        assert!(e.to_string().contains("empty.db"), "{e}");
    }
}
