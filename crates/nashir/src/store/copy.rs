//! Copies a SQLite newsroom into an empty PostgreSQL database: the move from one machine to
//! several nodes. Every table is copied as it is, ids included (links, redirects and the
//! change log keep pointing at the same rows), in one transaction: all or nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection, Postgres, QueryBuilder, Row, ValueRef};

use super::{StoreError, StoreResult};

/// PostgreSQL caps a statement at 65,535 parameters.
const MAX_PARAMS: usize = 30_000;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Float,
    Text,
    Bytes,
    Bool,
}

fn kind(pg_type: &str) -> Option<Kind> {
    Some(match pg_type {
        "bigint" | "integer" | "smallint" => Kind::Int,
        "double precision" | "real" | "numeric" => Kind::Float,
        "text" | "character varying" | "character" => Kind::Text,
        "bytea" => Kind::Bytes,
        "boolean" => Kind::Bool,
        _ => return None,
    })
}

fn corrupt(msg: String) -> StoreError {
    StoreError::Corrupt(msg)
}

/// Tables of the SQLite file, parents before the tables that reference them.
async fn tables_in_order(sqlite: &mut SqliteConnection) -> StoreResult<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *sqlite)
    .await?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let referenced: Vec<String> =
            sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_list($1)").bind(name).fetch_all(&mut *sqlite).await?;
        parents.insert(name.clone(), referenced.into_iter().filter(|p| p != name && names.contains(p)).collect());
    }
    let mut ordered = Vec::with_capacity(names.len());
    while ordered.len() < names.len() {
        let ready: Vec<String> = parents
            .iter()
            .filter(|(t, ps)| !ordered.contains(*t) && ps.iter().all(|p| ordered.contains(p)))
            .map(|(t, _)| t.clone())
            .collect();
        if ready.is_empty() {
            return Err(corrupt("the tables' foreign keys form a cycle; cannot order the copy".into()));
        }
        ordered.extend(ready);
    }
    Ok(ordered)
}

fn bind_value(
    q: &mut sqlx::query_builder::Separated<'_, '_, Postgres, &'static str>,
    row: &SqliteRow,
    i: usize,
    kind: Kind,
) -> StoreResult<()> {
    let null = row.try_get_raw(i)?.is_null();
    match kind {
        Kind::Int => q.push_bind(if null { None } else { Some(row.try_get::<i64, _>(i)?) }),
        Kind::Float => q.push_bind(if null { None } else { Some(row.try_get::<f64, _>(i)?) }),
        Kind::Text => q.push_bind(if null { None } else { Some(row.try_get::<String, _>(i)?) }),
        Kind::Bytes => q.push_bind(if null { None } else { Some(row.try_get::<Vec<u8>, _>(i)?) }),
        Kind::Bool => q.push_bind(if null { None } else { Some(row.try_get::<i64, _>(i)? != 0) }),
    };
    Ok(())
}

/// Copies every row of the SQLite file into the PostgreSQL database at `url`, whose schema must
/// be migrated and whose tables must be empty. Returns rows copied per table.
pub async fn sqlite_to_postgres(sqlite_file: &Path, url: &str) -> StoreResult<Vec<(String, u64)>> {
    let mut sqlite = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(sqlite_file).read_only(true)).await?;
    let mut pg = PgConnection::connect(url)
        .await
        .map_err(|e| StoreError::Unavailable { url: crate::config::redact_url(url), reason: e.to_string() })?;
    // One read transaction: a consistent snapshot even if a server writes meanwhile (WAL).
    let mut snapshot = sqlite.begin().await?;
    let tables = tables_in_order(&mut snapshot).await?;
    let mut tx = pg.begin().await?;
    let mut copied = Vec::new();
    for table in &tables {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        if columns.is_empty() {
            return Err(corrupt(format!("table {table} is missing in PostgreSQL: are both at the same version?")));
        }
        let existing: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\"")).fetch_one(&mut *tx).await?;
        if existing > 0 {
            return Err(corrupt(format!("the PostgreSQL database is not empty ({table} has {existing} rows); copy into a new database")));
        }
        let source: BTreeSet<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1)").bind(table).fetch_all(&mut *snapshot).await?.into_iter().collect();
        let mut wanted = Vec::new();
        for (name, pg_type) in &columns {
            if !source.contains(name) {
                continue; // a PostgreSQL-only column keeps its default
            }
            let kind = kind(pg_type).ok_or_else(|| corrupt(format!("{table}.{name}: no copy for PostgreSQL type {pg_type}")))?;
            wanted.push((name.clone(), kind));
        }
        if let Some(missing) = source.iter().find(|c| !wanted.iter().any(|(w, _)| w == *c)) {
            return Err(corrupt(format!("column {table}.{missing} is missing in PostgreSQL: are both at the same version?")));
        }
        let list = wanted.iter().map(|(c, _)| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        let batch = (MAX_PARAMS / wanted.len()).max(1);
        // Read in rowid order, one batch at a time, so a large archive is never all in memory.
        let keyed = sqlx::query(&format!("SELECT rowid FROM \"{table}\" LIMIT 1")).fetch_optional(&mut *snapshot).await.is_ok();
        let mut after = i64::MIN;
        let mut count = 0u64;
        loop {
            let rows = if keyed {
                sqlx::query(&format!("SELECT {list}, rowid FROM \"{table}\" WHERE rowid > $1 ORDER BY rowid LIMIT $2"))
                    .bind(after)
                    .bind(batch as i64)
                    .fetch_all(&mut *snapshot)
                    .await?
            } else if count == 0 {
                sqlx::query(&format!("SELECT {list} FROM \"{table}\" ORDER BY 1")).fetch_all(&mut *snapshot).await?
            } else {
                Vec::new()
            };
            if rows.is_empty() {
                break;
            }
            if keyed {
                after = rows.last().map(|r| r.try_get::<i64, _>(wanted.len())).transpose()?.unwrap_or(after);
            }
            for chunk in rows.chunks(batch) {
                let mut insert = QueryBuilder::<Postgres>::new(format!("INSERT INTO \"{table}\" ({list}) "));
                let mut failed = None;
                insert.push_values(chunk, |mut values, row| {
                    for (i, (_, kind)) in wanted.iter().enumerate() {
                        if let Err(e) = bind_value(&mut values, row, i, *kind) {
                            failed.get_or_insert(e);
                        }
                    }
                });
                if let Some(e) = failed {
                    return Err(corrupt(format!("{table}: {e}")));
                }
                insert.build().execute(&mut *tx).await?;
            }
            count += rows.len() as u64;
            if !keyed {
                break;
            }
        }
        // Identity columns continue after the copied ids.
        let identities: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND (is_identity = 'YES' OR column_default LIKE 'nextval%')",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        for column in identities {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 0) + 1, false)"
            ))
            .execute(&mut *tx)
            .await?;
        }
        copied.push((table.clone(), count));
    }
    tx.commit().await?;
    snapshot.rollback().await?;
    sqlite.close().await?;
    pg.close().await?;
    Ok(copied)
}
