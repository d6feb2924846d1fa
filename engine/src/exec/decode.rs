//! Row decoding: driver values and nested JSON -> result JSON in the tagged encoding, following
//! the plan's [`RowShape`]. Accepts both what text-protocol drivers return (PostgreSQL's text
//! output) and what binary drivers decode, so every driver shares one decoder.

use super::driver::{ColumnType, DbValue};
use crate::error::{Error, Result};
use crate::plan::shape::{CHUNK, OutField, OutKind, RowShape};
use crate::schema::{Provider, ScalarType, Schema};
use crate::value::{Value, canonical_decimal, parse_datetime, tagged};
use serde_json::{Map, Value as Json};

fn bad(what: &str) -> Error {
    Error::internal(format!("the database returned a value that is not a valid {what}"))
}

/// A top-level row: one column per field.
pub fn decode_row(schema: &Schema, shape: &RowShape, row: &[DbValue]) -> Result<Json> {
    let mut obj = Map::with_capacity(shape.fields.len());
    for (field, v) in shape.fields.iter().zip(row) {
        obj.insert(field.name.clone(), decode_column(schema, field, v)?);
    }
    Ok(Json::Object(obj))
}

pub(crate) fn decode_column(schema: &Schema, field: &OutField, v: &DbValue) -> Result<Json> {
    match (&field.kind, v) {
        // A NULL scalar list reads as an empty list, as in Prisma.
        (OutKind::Scalar { list: true, .. }, DbValue::Null) => Ok(Json::Array(vec![])),
        (_, DbValue::Null) => Ok(Json::Null),
        (OutKind::Scalar { ty, list: false }, v) => Ok(decode_scalar(schema, ty, v)?.to_json()),
        // Lists and relations arrive as JSON text.
        (kind, DbValue::Text(text)) => {
            let parsed: Json = serde_json::from_str(text).map_err(|_| bad("JSON document"))?;
            decode_nested(schema, kind, parsed)
        }
        (OutKind::Scalar { ty, list: true }, DbValue::List(items)) => {
            items.iter().map(|i| decode_scalar(schema, ty, i).map(|v| v.to_json())).collect::<Result<Vec<_>>>().map(Json::Array)
        }
        _ => Err(bad("nested result")),
    }
}

/// Nested values are decoded by taking the parsed document apart, so strings move into the
/// result instead of being copied.
pub(crate) fn decode_nested(schema: &Schema, kind: &OutKind, v: Json) -> Result<Json> {
    if v.is_null() {
        return Ok(if matches!(kind, OutKind::Scalar { list: true, .. }) { Json::Array(vec![]) } else { Json::Null });
    }
    match kind {
        OutKind::Scalar { ty, list: true } => {
            let Json::Array(items) = v else { return Err(bad("list")) };
            items.into_iter().map(|i| decode_json_scalar(schema, ty, i)).collect::<Result<Vec<_>>>().map(Json::Array)
        }
        OutKind::Scalar { ty, list: false } => decode_json_scalar(schema, ty, v),
        OutKind::ToOne(shape) => decode_json_row(schema, shape, v),
        OutKind::ToMany(shape) => {
            let Json::Array(rows) = v else { return Err(bad("list of rows")) };
            rows.into_iter().map(|r| decode_json_row(schema, shape, r)).collect::<Result<Vec<_>>>().map(Json::Array)
        }
        OutKind::Count(names) => {
            let Json::Array(counts) = v else { return Err(bad("count list")) };
            let mut obj = Map::with_capacity(names.len());
            for (name, c) in names.iter().zip(counts) {
                obj.insert(name.clone(), c);
            }
            Ok(Json::Object(obj))
        }
    }
}

/// A nested row: a JSON array of its fields (chunked past [`CHUNK`] fields).
fn decode_json_row(schema: &Schema, shape: &RowShape, v: Json) -> Result<Json> {
    let Json::Array(arr) = v else { return Err(bad("row")) };
    let flat: Vec<Json> = if shape.fields.len() > CHUNK {
        arr.into_iter().filter_map(|c| if let Json::Array(a) = c { Some(a) } else { None }).flatten().collect()
    } else {
        arr
    };
    let mut obj = Map::with_capacity(shape.fields.len());
    for (field, value) in shape.fields.iter().zip(flat) {
        obj.insert(field.name.clone(), decode_nested(schema, &field.kind, value)?);
    }
    Ok(Json::Object(obj))
}

/// A scalar inside JSON built by the database (`json_build_array`).
fn decode_json_scalar(schema: &Schema, ty: &ScalarType, v: Json) -> Result<Json> {
    let value = match (ty, v) {
        (_, Json::Null) => return Ok(Json::Null),
        (ScalarType::Json, mut v) => {
            if schema.provider() == Provider::Mysql {
                sort_keys(&mut v);
            }
            return Ok(tagged("Json", v));
        }
        // Text and numbers that are already in their result form.
        (ScalarType::String, v @ Json::String(_)) | (ScalarType::Int | ScalarType::Float, v @ Json::Number(_)) => return Ok(v),
        (ScalarType::Boolean, v @ Json::Bool(_)) => return Ok(v),
        // MySQL's booleans are TINYINT(1): 1 / 0 inside JSON.
        (ScalarType::Boolean, Json::Number(n)) => return Ok(Json::Bool(n.as_i64().ok_or_else(|| bad("Boolean"))? != 0)),
        (ScalarType::BigInt, Json::Number(n)) => Value::BigInt(n.as_i64().ok_or_else(|| bad("BigInt"))?),
        (_, Json::String(s)) => decode_scalar(schema, ty, &DbValue::Text(s))?,
        (ScalarType::Decimal, Json::Number(n)) => decode_scalar(schema, ty, &DbValue::Text(n.to_string()))?,
        _ => return Err(bad("scalar")),
    };
    Ok(value.to_json())
}

/// A scalar from a driver value, by the field's type.
pub fn decode_scalar(schema: &Schema, ty: &ScalarType, v: &DbValue) -> Result<Value> {
    match (ty, v) {
        (ScalarType::Enum(id), DbValue::Text(s)) => {
            let e = schema.enum_(*id);
            let name = e.values.iter().find(|v| &v.db_name == s).map_or_else(|| s.clone(), |v| v.name.clone());
            Ok(Value::Enum(name))
        }
        (ScalarType::Json, DbValue::Text(s)) if schema.provider() == Provider::Mysql => {
            let Ok(mut parsed) = serde_json::from_str::<Json>(s) else { return decode_plain(ty, v) };
            sort_keys(&mut parsed);
            Ok(Value::Json(parsed.to_string()))
        }
        _ => decode_plain(ty, v),
    }
}

/// Orders every object's keys as MySQL 8.0 and PostgreSQL's `jsonb` store them (shorter keys
/// first, then by their bytes), so MariaDB, which keeps JSON as the text written, gives the same
/// objects in the same order.
fn sort_keys(v: &mut Json) {
    match v {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = std::mem::take(map).into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes())));
            for (_, item) in &mut entries {
                sort_keys(item);
            }
            *map = entries.into_iter().collect();
        }
        Json::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// A scalar of any type but an enum.
fn decode_plain(ty: &ScalarType, v: &DbValue) -> Result<Value> {
    Ok(match (ty, v) {
        (_, DbValue::Null) => Value::Null,
        (ScalarType::String, DbValue::Text(s)) => Value::String(s.clone()),
        (ScalarType::String, DbValue::Int(i)) => Value::String(i.to_string()),
        (ScalarType::Int, DbValue::Int(i)) => Value::Int(*i),
        (ScalarType::Int, DbValue::Text(s)) => Value::Int(s.trim().parse().map_err(|_| bad("Int"))?),
        (ScalarType::BigInt, DbValue::Int(i)) => Value::BigInt(*i),
        (ScalarType::BigInt, DbValue::Text(s)) => Value::BigInt(s.trim().parse().map_err(|_| bad("BigInt"))?),
        (ScalarType::Float, DbValue::Float(f)) => Value::Float(*f),
        (ScalarType::Float, DbValue::Int(i)) => Value::Float(*i as f64),
        (ScalarType::Float, DbValue::Text(s)) => Value::Float(parse_float(s).ok_or_else(|| bad("Float"))?),
        (ScalarType::Decimal, DbValue::Text(s)) => Value::Decimal(canonical_decimal(s).unwrap_or_else(|| s.clone())),
        (ScalarType::Decimal, DbValue::Int(i)) => Value::Decimal(i.to_string()),
        (ScalarType::Decimal, DbValue::Float(f)) => Value::Decimal(f.to_string()),
        (ScalarType::Boolean, DbValue::Bool(b)) => Value::Boolean(*b),
        (ScalarType::Boolean, DbValue::Text(s)) => Value::Boolean(matches!(s.as_str(), "t" | "true" | "1")),
        (ScalarType::Boolean, DbValue::Int(i)) => Value::Boolean(*i != 0),
        (ScalarType::DateTime, DbValue::DateTime(dt)) => Value::DateTime(*dt),
        (ScalarType::DateTime, DbValue::Text(s)) => Value::DateTime(parse_datetime(s).ok_or_else(|| bad("DateTime"))?),
        (ScalarType::Json, DbValue::Text(s)) => Value::Json(s.clone()),
        (ScalarType::Bytes, DbValue::Bytes(b)) => Value::Bytes(b.clone()),
        (ScalarType::Bytes, DbValue::Text(s)) => Value::Bytes(parse_bytea(s).ok_or_else(|| bad("Bytes"))?),
        (ScalarType::Unsupported(_), _) => Value::Null,
        _ => return Err(bad("value for its field type")),
    })
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.trim().parse().ok(),
    }
}

/// PostgreSQL's `bytea` text output: `\x0102...` (hex format).
fn parse_bytea(s: &str) -> Option<Vec<u8>> {
    let hex = s.strip_prefix("\\x")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// A raw query's column, by the type the driver reported: `$queryRaw` has no schema to follow.
pub fn decode_by_column(ty: ColumnType, v: &DbValue) -> serde_json::Value {
    use ColumnType::*;
    type J = serde_json::Value;
    if matches!(v, DbValue::Null) {
        return J::Null;
    }
    let scalar = |t: &ScalarType, v: &DbValue| -> J { decode_plain(t, v).map(|v| v.to_json()).unwrap_or_else(|_| raw_json(v)) };
    match ty {
        Int32 => scalar(&ScalarType::Int, v),
        Int64 => scalar(&ScalarType::BigInt, v),
        Float | Double => scalar(&ScalarType::Float, v),
        Numeric => scalar(&ScalarType::Decimal, v),
        Boolean => scalar(&ScalarType::Boolean, v),
        Date | Time | Timestamp | Timestamptz => scalar(&ScalarType::DateTime, v),
        Json => match v {
            DbValue::Text(s) => serde_json::from_str(s).map(|j| tagged("Json", j)).unwrap_or_else(|_| raw_json(v)),
            _ => raw_json(v),
        },
        Bytes => scalar(&ScalarType::Bytes, v),
        Text | Uuid | Enum | Unknown => raw_json(v),
        Int32Array | Int64Array | FloatArray | DoubleArray | NumericArray | BooleanArray | TextArray | TimestampArray
        | JsonArray | BytesArray | UuidArray => match v {
            DbValue::List(items) => {
                let elem = match ty {
                    Int32Array => Int32,
                    Int64Array => Int64,
                    FloatArray => Float,
                    DoubleArray => Double,
                    NumericArray => Numeric,
                    BooleanArray => Boolean,
                    TimestampArray => Timestamp,
                    JsonArray => Json,
                    BytesArray => Bytes,
                    _ => Text,
                };
                J::Array(items.iter().map(|i| decode_by_column(elem, i)).collect())
            }
            _ => raw_json(v),
        },
    }
}

fn raw_json(v: &DbValue) -> Json {
    match v {
        DbValue::Null => Json::Null,
        DbValue::Bool(b) => Json::Bool(*b),
        DbValue::Int(i) => Json::from(*i),
        DbValue::Float(f) => Value::Float(*f).to_json(),
        DbValue::Text(s) => Json::String(s.clone()),
        DbValue::Bytes(b) => Value::Bytes(b.clone()).to_json(),
        DbValue::DateTime(dt) => Value::DateTime(*dt).to_json(),
        DbValue::List(items) => Json::Array(items.iter().map(raw_json).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_json_scalars_decode_by_field_type() {
        let schema = Schema::parse("model M { id Int @id }").expect("schema");
        let dec = |ty: ScalarType, v: Json| decode_json_scalar(&schema, &ty, v).expect("decodes");
        assert_eq!(dec(ScalarType::Boolean, serde_json::json!(1)), Json::Bool(true));
        assert_eq!(dec(ScalarType::Boolean, serde_json::json!(0)), Json::Bool(false));
        assert_eq!(
            dec(ScalarType::DateTime, serde_json::json!("2024-03-10 08:15:30.250000")),
            serde_json::json!({"$type": "DateTime", "value": "2024-03-10T08:15:30.250Z"})
        );
        assert_eq!(dec(ScalarType::Decimal, serde_json::json!("1250.50")), serde_json::json!({"$type": "Decimal", "value": "1250.50"}));
        assert_eq!(dec(ScalarType::Bytes, serde_json::json!("\\x01ff")), serde_json::json!({"$type": "Bytes", "value": "Af8="}));
    }

    #[test]
    fn bytea_hex_parses() {
        assert_eq!(parse_bytea("\\x00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(parse_bytea("\\x0"), None);
        assert_eq!(parse_bytea("00"), None);
    }
}
