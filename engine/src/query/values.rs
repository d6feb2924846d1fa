//! Request values -> typed [`Value`]s for a field's type, accepting the tagged encoding
//! (`{"$type":"DateTime","value":"..."}`) and the plain JSON forms Prisma Client accepts.

use super::json_kind;
use super::path::Path;
use crate::error::{Result, codes};
use crate::schema::{Arity, Field, ScalarType, Schema};
use crate::value::{Value, as_tagged, canonical_decimal, parse_datetime};
use base64::Engine as _;
use serde_json::Value as Json;

/// Converts one (non-list) value for a scalar type. `null` is not accepted here.
pub fn scalar_value(schema: &Schema, ty: &ScalarType, v: &Json, path: &Path) -> Result<Value> {
    let bad = |expected: &str| {
        path.error(codes::INVALID_VALUE, format!("expected {expected}, got {}", describe(v)))
    };
    let tagged = as_tagged(v);
    match ty {
        ScalarType::String => match v {
            Json::String(s) => Ok(Value::String(s.clone())),
            _ => Err(bad("a String")),
        },
        ScalarType::Boolean => match v {
            Json::Bool(b) => Ok(Value::Boolean(*b)),
            _ => Err(bad("a Boolean")),
        },
        ScalarType::Int => match v.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Ok(Value::Int(i)),
            Some(_) => Err(path.error(codes::INVALID_VALUE, "Int value out of the 32-bit range")),
            None => match v.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() <= i32::MAX as f64 => Ok(Value::Int(f as i64)),
                _ => Err(bad("an Int")),
            },
        },
        ScalarType::BigInt => {
            let parsed = match (tagged, v) {
                (Some(("BigInt", Json::String(s))), _) | (None, Json::String(s)) => s.trim().parse::<i64>().ok(),
                (None, Json::Number(n)) => n.as_i64(),
                _ => None,
            };
            parsed.map(Value::BigInt).ok_or_else(|| bad("a BigInt (a 64-bit integer)"))
        }
        ScalarType::Float => match (tagged, v) {
            (Some(("Float", Json::String(s))), _) => match s.as_str() {
                "NaN" => Ok(Value::Float(f64::NAN)),
                "Infinity" => Ok(Value::Float(f64::INFINITY)),
                "-Infinity" => Ok(Value::Float(f64::NEG_INFINITY)),
                _ => Err(bad("a Float")),
            },
            (Some(("Decimal", Json::String(s))), _) => s.parse().map(Value::Float).map_err(|_| bad("a Float")),
            (None, Json::Number(n)) => n.as_f64().map(Value::Float).ok_or_else(|| bad("a Float")),
            _ => Err(bad("a Float")),
        },
        ScalarType::Decimal => {
            let text = match (tagged, v) {
                (Some(("Decimal", Json::String(s))), _) | (None, Json::String(s)) => Some(s.clone()),
                (None, Json::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            text.as_deref().and_then(canonical_decimal).map(Value::Decimal).ok_or_else(|| bad("a Decimal"))
        }
        ScalarType::DateTime => {
            let s = match (tagged, v) {
                (Some(("DateTime", Json::String(s))), _) | (None, Json::String(s)) => Some(s.as_str()),
                _ => None,
            };
            s.and_then(parse_datetime).map(Value::DateTime).ok_or_else(|| bad("a DateTime (ISO 8601)"))
        }
        ScalarType::Json => Ok(json_value(v)),
        ScalarType::Bytes => match (tagged, v) {
            (Some(("Bytes", Json::String(s))), _) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map(Value::Bytes)
                .map_err(|_| bad("Bytes (base64)")),
            _ => Err(bad("Bytes")),
        },
        ScalarType::Enum(id) => {
            let e = schema.enum_(*id);
            match v {
                Json::String(s) => match e.values.iter().find(|ev| &ev.name == s) {
                    Some(ev) => Ok(Value::Enum(ev.db_name.clone())),
                    None => {
                        let names: Vec<&str> = e.values.iter().map(|ev| ev.name.as_str()).collect();
                        Err(path.error(
                            codes::INVALID_VALUE,
                            format!(
                                "\"{}\" is not a value of enum {}; expected one of: {}",
                                crate::error::excerpt(s),
                                e.name,
                                names.join(", ")
                            ),
                        ))
                    }
                },
                _ => Err(bad(&format!("a value of enum {}", e.name))),
            }
        }
        ScalarType::Unsupported(_) => {
            Err(path.error(codes::UNSUPPORTED, "fields of an Unsupported type cannot be read or written"))
        }
    }
}

/// A JSON field's value: a tagged `Json` is unwrapped without interpretation; anything else is
/// taken as the JSON value itself.
pub fn json_value(v: &Json) -> Value {
    match as_tagged(v) {
        Some(("Json", inner)) => Value::Json(inner.to_string()),
        _ => Value::Json(v.to_string()),
    }
}

/// A field value that may be a list (for `[]` fields) or null (for optional fields).
pub fn field_value(schema: &Schema, field: &Field, ty: &ScalarType, v: &Json, path: &Path) -> Result<Value> {
    if v.is_null() {
        return match field.arity {
            Arity::Optional => Ok(Value::Null),
            _ => Err(path.error(codes::INVALID_VALUE, format!("field {} is required and cannot be null", field.name))),
        };
    }
    if field.arity == Arity::List {
        return list_value(schema, ty, v, path);
    }
    scalar_value(schema, ty, v, path)
}

pub fn list_value(schema: &Schema, ty: &ScalarType, v: &Json, path: &Path) -> Result<Value> {
    let items = v
        .as_array()
        .ok_or_else(|| path.error(codes::INVALID_VALUE, format!("expected a list, got {}", describe(v))))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(scalar_value(schema, ty, item, &path.index(i))?);
    }
    Ok(Value::List(out))
}

pub fn describe(v: &Json) -> &'static str {
    match as_tagged(v) {
        Some(("DateTime", _)) => "a DateTime",
        Some(("BigInt", _)) => "a BigInt",
        Some(("Decimal", _)) => "a Decimal",
        Some(("Bytes", _)) => "Bytes",
        Some(("Json", _)) => "a Json value",
        _ => json_kind(v),
    }
}

/// An integer argument such as `take` or `skip`.
pub fn integer(v: &Json, path: &Path) -> Result<i64> {
    match v.as_i64() {
        Some(i) => Ok(i),
        None => match v.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            Some(_) => Err(path.error(codes::OUT_OF_RANGE, "expected an integer in range")),
            None => Err(path.error(codes::INVALID_VALUE, format!("expected an integer, got {}", describe(v)))),
        },
    }
}
