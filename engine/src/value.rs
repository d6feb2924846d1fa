//! Values: what a request carries in, what is bound as a parameter, and what a result carries out.
//!
//! JSON cannot carry every database type, so values that need it are tagged:
//! `{"$type":"DateTime","value":"2025-01-01T00:00:00.000Z"}`, likewise `BigInt`, `Decimal`,
//! `Bytes` (base64) and `Json` (the raw JSON value, never interpreted). The same encoding is used
//! in requests and in results; the TypeScript client turns it into Date, bigint, Decimal,
//! Uint8Array.

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::{Map, Value as Json, json};

/// A typed value, bound as a parameter or decoded from a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    /// `Int` fields (32-bit in the database, range-checked on input).
    Int(i64),
    BigInt(i64),
    Float(f64),
    /// Canonical decimal text (`-12.50`); arbitrary precision.
    Decimal(String),
    String(String),
    /// An enum value as the database stores it (`@map`ped name).
    Enum(String),
    /// UTC timestamp with microsecond precision.
    DateTime(NaiveDateTime),
    /// Serialized JSON text.
    Json(String),
    Bytes(Vec<u8>),
    /// Scalar lists and `IN (...)` arrays.
    List(Vec<Value>),
}

pub const TYPE_KEY: &str = "$type";

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The tagged JSON encoding used in results.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Boolean(b) => Json::Bool(*b),
            Value::Int(i) => json!(i),
            Value::BigInt(i) => tagged("BigInt", Json::String(i.to_string())),
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => Json::Number(n),
                None => tagged("Float", Json::String(float_name(*f).into())),
            },
            Value::Decimal(d) => tagged("Decimal", Json::String(d.clone())),
            Value::String(s) | Value::Enum(s) => Json::String(s.clone()),
            Value::DateTime(dt) => tagged("DateTime", Json::String(format_datetime(dt))),
            Value::Json(text) => {
                tagged("Json", serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.clone())))
            }
            Value::Bytes(b) => tagged("Bytes", Json::String(base64::engine::general_purpose::STANDARD.encode(b))),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
        }
    }

    /// A short description of the value's kind for error messages (never the value itself).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "Boolean",
            Value::Int(_) => "Int",
            Value::BigInt(_) => "BigInt",
            Value::Float(_) => "Float",
            Value::Decimal(_) => "Decimal",
            Value::String(_) => "String",
            Value::Enum(_) => "enum value",
            Value::DateTime(_) => "DateTime",
            Value::Json(_) => "Json",
            Value::Bytes(_) => "Bytes",
            Value::List(_) => "list",
        }
    }
}

fn float_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

pub fn tagged(ty: &str, value: Json) -> Json {
    let mut m = Map::with_capacity(2);
    m.insert(TYPE_KEY.into(), Json::String(ty.into()));
    m.insert("value".into(), value);
    Json::Object(m)
}

/// If `v` is a tagged value, its type name and payload.
pub fn as_tagged(v: &Json) -> Option<(&str, &Json)> {
    let obj = v.as_object()?;
    if obj.len() != 2 {
        return None;
    }
    let ty = obj.get(TYPE_KEY)?.as_str()?;
    Some((ty, obj.get("value")?))
}

/// `2025-01-01T00:00:00.000Z`: millisecond precision like JavaScript's `Date`, more if present.
pub fn format_datetime(dt: &NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let (year, nanos) = (dt.year(), dt.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // Rare: years chrono writes with a sign, leap seconds.
        let fmt = if nanos % 1_000_000 == 0 { "%Y-%m-%dT%H:%M:%S%.3fZ" } else { "%Y-%m-%dT%H:%M:%S%.6fZ" };
        return dt.format(fmt).to_string();
    }
    // Every date-time of every result passes here: write it directly rather than through a
    // format string.
    let mut out = String::with_capacity(27);
    let _ = write!(out, "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.", dt.month(), dt.day(), dt.hour(), dt.minute(), dt.second());
    let _ = if nanos % 1_000_000 == 0 { write!(out, "{:03}Z", nanos / 1_000_000) } else { write!(out, "{:06}Z", nanos / 1_000) };
    out
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z]`, the form nearly every date-time arrives in (clients
/// send `Z`, PostgreSQL's JSON writes `timestamp` without a zone); `None` for anything else.
fn parse_datetime_fast(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |acc, d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if let Some((b'.', frac)) = rest.split_first() {
        let digits = frac.iter().take_while(|d| d.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(20..20 + digits)? * 10u32.pow(9 - digits as u32);
        rest = &frac[digits..];
    }
    if !(rest.is_empty() || rest == b"Z") {
        return None;
    }
    date.and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)
}

/// Parses the date-time forms that reach the engine: ISO 8601 / RFC 3339 with `Z` or an offset
/// (from clients and `timestamptz` in JSON), PostgreSQL's text output (`2025-01-01 10:00:00.123+02`,
/// and without an offset for `timestamp`, read as UTC), a bare date (`2025-01-01`, midnight UTC) and
/// a bare time (`10:00:00`, on 1970-01-01). Returns UTC.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some(dt) = parse_datetime_fast(s) {
        return Some(dt);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc).naive_utc());
    }
    // PostgreSQL text: space separator, optional short offset (+02, +05:30, -08).
    let normalized = s.replacen(' ', "T", 1);
    if let Some(dt) = parse_with_short_offset(&normalized) {
        return Some(dt);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(&normalized, fmt) {
            return Some(dt);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    for fmt in ["%H:%M:%S%.f", "%H:%M:%S"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, fmt) {
            return Some(NaiveDate::from_ymd_opt(1970, 1, 1)?.and_time(t));
        }
    }
    // `timetz`: a time with an offset.
    None
}

fn parse_with_short_offset(s: &str) -> Option<NaiveDateTime> {
    let t_pos = s.find('T')?;
    let tail = &s[t_pos..];
    let sign_pos = tail.rfind(['+', '-'])? + t_pos;
    let (local, offset) = s.split_at(sign_pos);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: Vec<&str> = offset[1..].split(':').collect();
    // An offset is at most a day (PostgreSQL allows up to 15:59:59); anything larger is not a
    // date-time, and must not overflow on the way to saying so.
    let part = |p: Option<&&str>, max: i64| -> Option<i64> {
        match p {
            None => Some(0),
            Some(p) if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) => None,
            Some(p) => p.parse().ok().filter(|n| *n <= max),
        }
    };
    let hours = part(Some(digits.first()?), 23)?;
    let minutes = part(digits.get(1), 59)?;
    let seconds = part(digits.get(2), 59)?;
    if digits.len() > 3 {
        return None;
    }
    let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(local, fmt).ok())?;
    let offset = chrono::Duration::try_seconds(sign * (hours * 3600 + minutes * 60 + seconds))?;
    local.checked_sub_signed(offset)
}

/// Checks decimal text (`-12.5`, `1e3`, `.5`) and returns it in canonical form (no exponent,
/// no leading `+`). Returns `None` for anything else, including NaN and infinities.
pub fn canonical_decimal(s: &str) -> Option<String> {
    let s = s.trim();
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if exp.unsigned_abs() > 1000 {
        return None;
    }
    let mut digits: String = format!("{int}{frac}");
    let mut point = int.len() as i64 + exp as i64; // position of the decimal point in `digits`
    if point < 0 {
        digits = "0".repeat((-point) as usize) + &digits;
        point = 0;
    }
    while (digits.len() as i64) < point {
        digits.push('0');
    }
    let (i, f) = digits.split_at(point as usize);
    let i = i.trim_start_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let mut out = String::with_capacity(digits.len() + 2);
    let is_zero = i == "0" && f.bytes().all(|b| b == b'0');
    if neg && !is_zero {
        out.push('-');
    }
    out.push_str(i);
    if !f.is_empty() {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(canonical_decimal("12.50").as_deref(), Some("12.50"));
        assert_eq!(canonical_decimal("-0.5").as_deref(), Some("-0.5"));
        assert_eq!(canonical_decimal(".5").as_deref(), Some("0.5"));
        assert_eq!(canonical_decimal("1e3").as_deref(), Some("1000"));
        assert_eq!(canonical_decimal("1.5e-3").as_deref(), Some("0.0015"));
        assert_eq!(canonical_decimal("+007").as_deref(), Some("7"));
        assert_eq!(canonical_decimal("-0").as_deref(), Some("0"));
        assert_eq!(canonical_decimal("abc"), None);
        assert_eq!(canonical_decimal("NaN"), None);
        assert_eq!(canonical_decimal("1e99999"), None);
        assert_eq!(canonical_decimal("."), None);
    }

    #[test]
    fn datetimes_parse_in_every_form_we_receive() {
        let want = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap().and_hms_milli_opt(3, 4, 5, 678).unwrap();
        for s in [
            "2025-01-02T03:04:05.678Z",
            "2025-01-02T05:04:05.678+02:00",
            "2025-01-02 03:04:05.678",
            "2025-01-02T03:04:05.678",
            "2025-01-02 05:04:05.678+02",
            "2025-01-01 22:04:05.678-05",
        ] {
            assert_eq!(parse_datetime(s), Some(want), "{s}");
        }
        assert_eq!(format_datetime(&want), "2025-01-02T03:04:05.678Z");
        assert_eq!(
            parse_datetime("2025-01-02"),
            NaiveDate::from_ymd_opt(2025, 1, 2).unwrap().and_hms_opt(0, 0, 0)
        );
        assert_eq!(
            parse_datetime("10:30:00"),
            NaiveDate::from_ymd_opt(1970, 1, 1).unwrap().and_hms_opt(10, 30, 0)
        );
        assert_eq!(parse_datetime("yesterday"), None);
        assert_eq!(parse_datetime("2025-02-30T00:00:00Z"), None);
        let micro = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap().and_hms_micro_opt(3, 4, 5, 678_901).unwrap();
        assert_eq!(parse_datetime("2025-01-02T03:04:05.678901"), Some(micro));
        assert_eq!(format_datetime(&micro), "2025-01-02T03:04:05.678901Z");
        let early = NaiveDate::from_ymd_opt(33, 1, 2).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(format_datetime(&early), "0033-01-02T00:00:00.000Z");
        assert_eq!(parse_datetime("0033-01-02T00:00:00.000Z"), Some(early));
    }

    #[test]
    fn tagged_values_round_trip_their_shape() {
        assert_eq!(Value::BigInt(9007199254740993).to_json(), json!({"$type":"BigInt","value":"9007199254740993"}));
        assert_eq!(Value::Bytes(vec![1, 2, 3]).to_json(), json!({"$type":"Bytes","value":"AQID"}));
        assert_eq!(Value::Json("{\"$type\":1}".into()).to_json(), json!({"$type":"Json","value":{"$type":1}}));
        assert_eq!(Value::Float(f64::NAN).to_json(), json!({"$type":"Float","value":"NaN"}));
        assert_eq!(as_tagged(&json!({"$type":"Decimal","value":"1.5"})), Some(("Decimal", &json!("1.5"))));
    }
}
