//! Parameters out and rows in. Parameters go in PostgreSQL's text format (the server parses them
//! with the input function of whatever type it inferred); result columns arrive in binary and are
//! decoded here into the engine's [`DbValue`]s, with the column types a raw query needs.

use bytes::BytesMut;
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use deadpool_postgres::{Object, PoolError};
use postgres_protocol::types as wire;
use quarry_engine::exec::{Column, ColumnType, DbValue, DriverError, DriverResult, ResultSet};
use quarry_engine::value::{Value, format_datetime};
use std::error::Error as StdError;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A parameter, written as text.
#[derive(Debug)]
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if self.0.is_null() {
            return Ok(IsNull::Yes);
        }
        match self.0 {
            // `time` does not take a date: a DateTime for a `@db.Time` column is its time of day
            // (UTC), as Prisma writes it.
            Value::DateTime(dt) if *ty == Type::TIME || *ty == Type::TIMETZ => {
                use std::fmt::Write;
                let _ = write!(out, "{}", dt.format("%H:%M:%S%.f"));
                if *ty == Type::TIMETZ {
                    out.extend_from_slice(b"+00");
                }
            }
            v => write_text(v, out),
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> tokio_postgres::types::Format {
        tokio_postgres::types::Format::Text
    }

    to_sql_checked!();
}

fn write_text(v: &Value, out: &mut BytesMut) {
    use std::fmt::Write;
    let _ = match v {
        Value::Null => Ok(()),
        Value::Boolean(b) => out.write_str(if *b { "t" } else { "f" }),
        Value::Int(i) | Value::BigInt(i) => write!(out, "{i}"),
        Value::Float(f) if f.is_nan() => out.write_str("NaN"),
        Value::Float(f) if f.is_infinite() => out.write_str(if *f > 0.0 { "Infinity" } else { "-Infinity" }),
        Value::Float(f) => write!(out, "{f:?}"),
        Value::Decimal(s) | Value::String(s) | Value::Enum(s) | Value::Json(s) => out.write_str(s),
        Value::DateTime(dt) => out.write_str(&format_datetime(dt).replace('Z', "+00")),
        Value::Bytes(b) => {
            let _ = out.write_str("\\x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
            Ok(())
        }
        Value::List(items) => {
            let _ = out.write_char('{');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    let _ = out.write_char(',');
                }
                if item.is_null() {
                    let _ = out.write_str("NULL");
                    continue;
                }
                let mut inner = BytesMut::new();
                write_text(item, &mut inner);
                let _ = out.write_char('"');
                for c in String::from_utf8_lossy(&inner).chars() {
                    if c == '"' || c == '\\' {
                        let _ = out.write_char('\\');
                    }
                    let _ = out.write_char(c);
                }
                let _ = out.write_char('"');
            }
            out.write_char('}')
        }
    };
}

/// Any column, as raw bytes.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(raw))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// "Unspecified": the server infers the parameter's type, as it does for a prepared statement.
fn unspecified() -> Type {
    Type::new("unspecified".into(), 0, Kind::Pseudo, "pg_catalog".into())
}

pub async fn query(conn: &Object, pgbouncer: bool, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
    let wrapped: Vec<Param> = params.iter().map(Param).collect();
    let rows = if pgbouncer {
        let typed: Vec<(&(dyn ToSql + Sync), Type)> = wrapped.iter().map(|p| (p as &(dyn ToSql + Sync), unspecified())).collect();
        conn.query_typed(sql, &typed).await.map_err(pg_error)?
    } else {
        let stmt = conn.prepare_cached(sql).await.map_err(pg_error)?;
        let refs: Vec<&(dyn ToSql + Sync)> = wrapped.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        conn.query(&stmt, &refs).await.map_err(pg_error)?
    };
    let columns: Vec<Column> = match rows.first() {
        Some(r) => r.columns().iter().map(|c| Column { name: c.name().to_owned(), ty: column_type(c.type_()) }).collect(),
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut values = Vec::with_capacity(row.len());
        for (i, c) in row.columns().iter().enumerate() {
            let raw: Option<Raw> = row.try_get(i).map_err(|e| DriverError::Other(format!("cannot read column {}: {e}", c.name())))?;
            values.push(match raw {
                None => DbValue::Null,
                Some(Raw(bytes)) => decode(c.type_(), bytes)?,
            });
        }
        out.push(values);
    }
    Ok(ResultSet { columns, rows: out })
}

pub async fn execute(conn: &Object, pgbouncer: bool, sql: &str, params: &[Value]) -> DriverResult<u64> {
    let wrapped: Vec<Param> = params.iter().map(Param).collect();
    if pgbouncer {
        // Unnamed statement: run it as a query and count the rows it reports.
        let typed: Vec<(&(dyn ToSql + Sync), Type)> = wrapped.iter().map(|p| (p as &(dyn ToSql + Sync), unspecified())).collect();
        let stream = conn.query_typed_raw(sql, typed.iter().map(|(p, t)| (*p, t.clone()))).await.map_err(pg_error)?;
        futures_count(stream).await
    } else {
        let stmt = conn.prepare_cached(sql).await.map_err(pg_error)?;
        let refs: Vec<&(dyn ToSql + Sync)> = wrapped.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        conn.execute(&stmt, &refs).await.map_err(pg_error)
    }
}

/// The non-built-in types of the given schemas (enums, domains, ranges, extension types such as
/// `citext`) and their array types, as a `SELECT` list of typed NULLs; at most 500 types.
const TYPES_TO_LEARN: &str = "SELECT string_agg(format('NULL::%s', t.oid::regtype) || CASE WHEN t.typarray <> 0 THEN format(', NULL::%s', t.typarray::regtype) ELSE '' END, ', ') \
     FROM (SELECT t.oid, t.typarray FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
           WHERE n.nspname = ANY($1) AND t.typtype IN ('b', 'd', 'e', 'r', 'm') AND t.typelem = 0 AND t.typisdefined \
           ORDER BY t.oid LIMIT 500) t";

/// Teaches a new connection the types of `schemas` before it runs anything else (PgBouncer mode).
///
/// tokio-postgres looks up a result column's type the first time it meets it, with named prepared
/// statements of its own. Behind PgBouncer in transaction mode that breaks twice: a lookup
/// outside a transaction can be parsed on one server connection and executed on another, and a
/// lookup inside a transaction whose statement just failed runs in the aborted transaction, so the
/// caller gets "current transaction is aborted" instead of the real error (a unique or foreign
/// key violation). Reading one typed NULL of each type in a transaction of its own fills the
/// client's type cache up front, on one server connection; `DEALLOCATE ALL` then removes the
/// lookup statements so nothing named stays behind on a server connection other clients share.
/// A type created after the connection opened is still unknown to it.
pub async fn learn_types(client: &tokio_postgres::Client, schemas: &[String]) -> Result<(), tokio_postgres::Error> {
    client.batch_execute("BEGIN").await?;
    let result = async {
        let schemas = schemas.to_vec();
        let rows = client.query_typed(TYPES_TO_LEARN, &[(&schemas, Type::TEXT_ARRAY)]).await?;
        let list: Option<String> = rows.first().and_then(|r| r.get(0));
        if let Some(list) = list.filter(|l| !l.is_empty()) {
            client.query_typed(&format!("SELECT {list}"), &[]).await?;
        }
        client.batch_execute("DEALLOCATE ALL").await
    }
    .await;
    match result {
        Ok(()) => client.batch_execute("COMMIT").await,
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// Drains a row stream and returns the affected-row count the server reported.
async fn futures_count(stream: tokio_postgres::RowStream) -> DriverResult<u64> {
    let mut stream = std::pin::pin!(stream);
    loop {
        let next = std::future::poll_fn(|cx| stream.as_mut().poll_next_row(cx)).await;
        match next {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(pg_error(e)),
            None => return Ok(stream.rows_affected().unwrap_or(0)),
        }
    }
}

trait PollNextRow {
    fn poll_next_row(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Result<tokio_postgres::Row, tokio_postgres::Error>>>;
}

impl PollNextRow for tokio_postgres::RowStream {
    fn poll_next_row(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Result<tokio_postgres::Row, tokio_postgres::Error>>> {
        futures_util::Stream::poll_next(self, cx)
    }
}

fn epoch_2000() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

fn bad(ty: &Type) -> DriverError {
    DriverError::Other(format!("cannot decode a value of type {}", ty.name()))
}

/// One binary value by its type.
fn decode(ty: &Type, raw: &[u8]) -> DriverResult<DbValue> {
    let e = |_: BoxError| bad(ty);
    Ok(match *ty {
        Type::BOOL => DbValue::Bool(wire::bool_from_sql(raw).map_err(e)?),
        Type::INT2 => DbValue::Int(wire::int2_from_sql(raw).map_err(e)? as i64),
        Type::INT4 => DbValue::Int(wire::int4_from_sql(raw).map_err(e)? as i64),
        Type::INT8 => DbValue::Int(wire::int8_from_sql(raw).map_err(e)?),
        Type::OID => DbValue::Int(wire::oid_from_sql(raw).map_err(e)? as i64),
        Type::FLOAT4 => DbValue::Float(wire::float4_from_sql(raw).map_err(e)? as f64),
        Type::FLOAT8 => DbValue::Float(wire::float8_from_sql(raw).map_err(e)?),
        Type::NUMERIC => DbValue::Text(numeric_text(raw).ok_or_else(|| bad(ty))?),
        Type::UUID => {
            let b = wire::uuid_from_sql(raw).map_err(e)?;
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            DbValue::Text(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
        }
        Type::JSONB => DbValue::Text(String::from_utf8_lossy(raw.get(1..).unwrap_or_default()).into_owned()),
        Type::BYTEA => DbValue::Bytes(wire::bytea_from_sql(raw).to_vec()),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            let micros = wire::timestamp_from_sql(raw).map_err(e)?;
            match epoch_2000().checked_add_signed(TimeDelta::microseconds(micros)) {
                Some(dt) if micros != i64::MAX && micros != i64::MIN => DbValue::DateTime(dt),
                _ => DbValue::Text(if micros > 0 { "infinity" } else { "-infinity" }.into()),
            }
        }
        Type::DATE => {
            let days = wire::date_from_sql(raw).map_err(e)?;
            match epoch_2000().checked_add_signed(TimeDelta::days(days as i64)) {
                Some(dt) if days != i32::MAX && days != i32::MIN => DbValue::DateTime(dt),
                _ => DbValue::Text(if days > 0 { "infinity" } else { "-infinity" }.into()),
            }
        }
        Type::TIME | Type::TIMETZ => {
            let micros = wire::time_from_sql(raw).map_err(e)?;
            let base = NaiveDate::from_ymd_opt(1970, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
            DbValue::DateTime(base + TimeDelta::microseconds(micros))
        }
        Type::CHAR => DbValue::Text(((wire::char_from_sql(raw).map_err(e)? as u8) as char).to_string()),
        _ => match ty.kind() {
            Kind::Array(elem) => {
                let array = wire::array_from_sql(raw).map_err(e)?;
                let mut items = Vec::new();
                let mut values = array.values();
                while let Some(v) = fallible_iterator::FallibleIterator::next(&mut values).map_err(e)? {
                    items.push(match v {
                        None => DbValue::Null,
                        Some(bytes) => decode(elem, bytes)?,
                    });
                }
                DbValue::List(items)
            }
            Kind::Domain(base) => decode(base, raw)?,
            // text, varchar, bpchar, name, json, xml, citext, enums and anything else textual.
            _ => DbValue::Text(String::from_utf8(raw.to_vec()).map_err(|_| bad(ty))?),
        },
    })
}

/// PostgreSQL's binary `numeric` as decimal text.
fn numeric_text(raw: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*raw.get(i)?, *raw.get(i + 1)?])) };
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i16 as i32;
    let sign = word(4)?;
    let dscale = word(6)? as usize;
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(8 + 2 * i)).collect::<Option<_>>()?;
    let mut int = String::new();
    for i in 0..=weight.max(-1) {
        let d = digits.get(i as usize).copied().unwrap_or(0);
        if int.is_empty() {
            if d != 0 {
                int.push_str(&d.to_string());
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let first_frac = weight + 1;
    for i in first_frac..ndigits as i32 {
        if i < 0 {
            continue;
        }
        frac.push_str(&format!("{:04}", digits.get(i as usize).copied().unwrap_or(0)));
    }
    // Groups before the first stored fractional group are zeros.
    if weight < -1 {
        frac = "0000".repeat((-weight - 1) as usize) + &frac;
    }
    while frac.len() < dscale {
        frac.push('0');
    }
    frac.truncate(dscale);
    let mut out = String::new();
    if sign == 0x4000 && (int != "0" || frac.bytes().any(|b| b != b'0')) {
        out.push('-');
    }
    out.push_str(&int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    Some(out)
}

fn column_type(ty: &Type) -> ColumnType {
    use ColumnType as C;
    match *ty {
        Type::INT2 | Type::INT4 | Type::OID => C::Int32,
        Type::INT8 => C::Int64,
        Type::FLOAT4 => C::Float,
        Type::FLOAT8 => C::Double,
        Type::NUMERIC => C::Numeric,
        Type::BOOL => C::Boolean,
        Type::DATE => C::Date,
        Type::TIME | Type::TIMETZ => C::Time,
        Type::TIMESTAMP => C::Timestamp,
        Type::TIMESTAMPTZ => C::Timestamptz,
        Type::JSON | Type::JSONB => C::Json,
        Type::BYTEA => C::Bytes,
        Type::UUID => C::Uuid,
        _ => match ty.kind() {
            Kind::Enum(_) => C::Enum,
            Kind::Domain(base) => column_type(base),
            Kind::Array(elem) => match column_type(elem) {
                C::Int32 => C::Int32Array,
                C::Int64 => C::Int64Array,
                C::Float => C::FloatArray,
                C::Double => C::DoubleArray,
                C::Numeric => C::NumericArray,
                C::Boolean => C::BooleanArray,
                C::Timestamp | C::Timestamptz | C::Date | C::Time => C::TimestampArray,
                C::Json => C::JsonArray,
                C::Bytes => C::BytesArray,
                C::Uuid => C::UuidArray,
                _ => C::TextArray,
            },
            _ => C::Text,
        },
    }
}

pub fn pg_error(e: tokio_postgres::Error) -> DriverError {
    if let Some(db) = e.as_db_error() {
        return DriverError::Database {
            sqlstate: db.code().code().to_owned(),
            message: db.message().to_owned(),
            schema: db.schema().map(str::to_owned),
            constraint: db.constraint().map(str::to_owned),
            table: db.table().map(str::to_owned),
            column: db.column().map(str::to_owned),
        };
    }
    if e.is_closed() {
        return DriverError::Connection("the connection is closed".into());
    }
    match e.source() {
        Some(src) => DriverError::Connection(src.to_string()),
        None => DriverError::Other(e.to_string()),
    }
}

pub fn pool_error(e: PoolError) -> DriverError {
    match e {
        PoolError::Timeout(_) => DriverError::PoolTimeout { connection_limit: None, timeout_secs: None },
        PoolError::Backend(e) => pg_error(e),
        PoolError::Closed => DriverError::Connection("the pool is closed".into()),
        other => DriverError::Connection(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight as u16, sign, dscale] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_binary_to_text() {
        assert_eq!(numeric_text(&numeric(2, 0, 0, 2, &[12, 5000])).as_deref(), Some("12.50"));
        assert_eq!(numeric_text(&numeric(1, -1, 0x4000, 2, &[500])).as_deref(), Some("-0.05"));
        assert_eq!(numeric_text(&numeric(1, -2, 0, 6, &[1200])).as_deref(), Some("0.000012"));
        assert_eq!(numeric_text(&numeric(2, 1, 0, 0, &[1, 0])).as_deref(), Some("10000"));
        assert_eq!(numeric_text(&numeric(0, 0, 0, 0, &[])).as_deref(), Some("0"));
        assert_eq!(numeric_text(&numeric(0, 0, 0xC000, 0, &[])).as_deref(), Some("NaN"));
    }

    #[test]
    fn lists_are_quoted_array_literals() {
        let mut out = BytesMut::new();
        write_text(&Value::List(vec![Value::String("a \"b\"".into()), Value::Null, Value::String("c\\d".into())]), &mut out);
        assert_eq!(&out[..], br#"{"a \"b\"",NULL,"c\\d"}"#);
    }
}
