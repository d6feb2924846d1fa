//! JSON filters on MySQL 8.0 and MariaDB 10.6+, with PostgreSQL's `jsonb` results. The two
//! servers share no JSON equality (MariaDB keeps JSON as text and compares it as text, MySQL 8.0
//! compares JSON values, `JSON_EQUALS` is MariaDB 10.7+ only), so the compared value, known when
//! the request is planned, becomes a structural predicate: its type (`JSON_TYPE`), its length for
//! objects and arrays (`JSON_LENGTH`), and each member compared the same way at its own path.
//! Numbers compare as `DECIMAL(65,30)` (stored ones it cannot hold as `DOUBLE`), strings as
//! bytes (no trailing-space padding), and
//! `array_contains` follows `jsonb @>` (elements found with `JSON_TABLE`, not `JSON_CONTAINS`,
//! which also looks inside nested arrays). Path keys, indexes and compared values are bound
//! parameters; the SQL NULLs come out where PostgreSQL's do, so `not` and `NOT` agree too.

use super::Planner;
use super::filter::cmp_op;
use crate::error::{Error, codes};
use crate::query::{JsonCond, NullKind};
use crate::sql::{self, ast::BinaryOperator, ast::Expr};
use crate::value::Value;
use serde_json::Value as Json;
use sqlparser::ast::{Ident, JsonTableColumn, TableFactor, Value as SqlValue};

/// Nodes of one compared value (each becomes a few SQL terms).
const MAX_NODES: usize = 256;
/// Nesting depth of one compared value.
const MAX_DEPTH: usize = 32;
/// Path segments that may be an array index or an object key (each doubles the target).
const MAX_INDEX_SEGMENTS: usize = 4;

/// `JSON_TYPE` names of numbers on MySQL 8.0 (all four) and MariaDB (`INTEGER`, `DOUBLE`).
const NUMBER_TYPES: [&str; 4] = ["INTEGER", "UNSIGNED INTEGER", "DOUBLE", "DECIMAL"];
const DECIMAL: &str = "DECIMAL(65,30)";
/// Number text that `DECIMAL(65,30)` holds exactly.
const PLAIN_DECIMAL: &str = "^-?[0-9]{1,35}([.][0-9]{1,30})?$";

struct Budget {
    nodes: usize,
}

impl Planner<'_> {
    /// A JSON filter on `column` (a MySQL JSON column) at `path`.
    pub(super) fn mysql_json_cond(&mut self, column: Expr, path: &[String], cond: &JsonCond) -> Expr {
        let target = match self.json_at(column, path) {
            Ok(t) => t,
            Err(e) => return self.fail(e),
        };
        let mut budget = Budget { nodes: 0 };
        match self.json_cond_mysql(&target, path.is_empty(), cond, &mut budget) {
            Ok(e) => e,
            Err(e) => self.fail(e),
        }
    }

    fn fail(&mut self, e: Error) -> Expr {
        if self.refused.is_none() {
            self.refused = Some(e);
        }
        sql::bool_lit(false)
    }

    fn bind_str(&mut self, s: String) -> Expr {
        self.params.bind(Value::String(s))
    }

    /// The value at `path` in `base`, SQL NULL where there is none (as `#>` on PostgreSQL). A
    /// segment that is an integer indexes an array (negative from its end) and names a key of an
    /// object, whichever the value there is; other segments name keys only.
    fn json_at(&mut self, base: Expr, path: &[String]) -> Result<Expr, Error> {
        let indexes = path.iter().filter(|s| index_segment(s).is_some()).count();
        if indexes > MAX_INDEX_SEGMENTS {
            return Err(Error::new(
                codes::TOO_LARGE,
                format!("a JSON path on MySQL may have at most {MAX_INDEX_SEGMENTS} segments that are numbers"),
            ));
        }
        let mut current = base;
        let mut keys = String::new();
        for seg in path {
            match index_segment(seg) {
                None => keys.push_str(&key_step(seg)),
                Some(n) => {
                    if !keys.is_empty() {
                        let legs = std::mem::take(&mut keys);
                        current = self.extract_legs(current, legs);
                    }
                    let is_array = type_is(current.clone(), "ARRAY");
                    let as_key = self.bind_str(key_step(seg));
                    let as_index = if n >= 0 {
                        self.bind_str(format!("[{n}]"))
                    } else {
                        let back = self.params.bind(Value::Int(-n));
                        let len = sql::func("JSON_LENGTH", vec![current.clone()]);
                        let at = sql::func(
                            "CONCAT",
                            vec![sql::string_lit("["), sql::binop(len.clone(), BinaryOperator::Minus, back.clone()), sql::string_lit("]")],
                        );
                        sql::case_when(sql::binop(len, BinaryOperator::GtEq, back), at, None)
                    };
                    let step = sql::case_when(is_array, as_index, Some(as_key));
                    current = sql::func("JSON_EXTRACT", vec![current, sql::func("CONCAT", vec![sql::string_lit("$"), step])]);
                }
            }
        }
        if !keys.is_empty() {
            current = self.extract_legs(current, keys);
        }
        Ok(current)
    }

    /// `JSON_EXTRACT(e, CONCAT('$', legs))`: the legs are bound without the `$`, so a bound value
    /// never equals a path the request gave as one string (the plan cache takes a parameter that
    /// equals a request value for that value; a path string is not one: its form decides the SQL).
    fn extract_legs(&mut self, e: Expr, legs: String) -> Expr {
        let p = self.bind_str(legs);
        sql::func("JSON_EXTRACT", vec![e, sql::func("CONCAT", vec![sql::string_lit("$"), p])])
    }

    fn json_cond_mysql(&mut self, t: &Expr, whole_column: bool, cond: &JsonCond, budget: &mut Budget) -> Result<Expr, Error> {
        Ok(match cond {
            JsonCond::Equals(v) => {
                let v = parse(v)?;
                let p = self.json_eq(t, &v, 0, budget)?;
                defined(t, p)
            }
            JsonCond::IsNull(kind) => {
                let json_null = type_is(t.clone(), "NULL");
                let db_null = sql::is_null(t.clone());
                match (kind, whole_column) {
                    (NullKind::Json, _) => json_null,
                    (NullKind::Db, true) => db_null,
                    (NullKind::Db, false) | (NullKind::Any, _) => sql::or(vec![db_null, json_null]),
                }
            }
            JsonCond::Cmp { op, value } => {
                let op = cmp_op(*op);
                let p = match parse(value)? {
                    Json::Number(n) => self.number_cmp(t, op, &n)?,
                    Json::String(s) => {
                        let b = self.bind_str(s);
                        sql::and(vec![type_is(t.clone(), "STRING"), sql::binop(bytes(unquote(t)), op, bytes(b))])
                    }
                    _ => sql::bool_lit(false),
                };
                defined(t, p)
            }
            JsonCond::StringLike { kind, value, insensitive } => {
                let pattern = self.bind_str(super::filter::like_pattern(*kind, value));
                let text = unquote(t);
                let like = if *insensitive {
                    sql::like(sql::func("LOWER", vec![text]), sql::func("LOWER", vec![pattern]), false, false)
                } else {
                    sql::like(text, pattern, false, false)
                };
                sql::and(vec![type_is(t.clone(), "STRING"), like])
            }
            JsonCond::ArrayContains(v) => {
                let v = parse(v)?;
                let p = self.json_contains(t, &v, true, 0, budget)?;
                let p = if v.is_array() { p } else { sql::and(vec![type_is(t.clone(), "ARRAY"), p]) };
                defined(t, p)
            }
            JsonCond::ArrayStartsWith(v) | JsonCond::ArrayEndsWith(v) => {
                let v = parse(v)?;
                let len = sql::func("JSON_LENGTH", vec![t.clone()]);
                let at = if matches!(cond, JsonCond::ArrayStartsWith(_)) {
                    self.bind_str("$[0]".into())
                } else {
                    sql::func(
                        "CONCAT",
                        vec![
                            sql::string_lit("$["),
                            sql::binop(len.clone(), BinaryOperator::Minus, sql::int_lit(1)),
                            sql::string_lit("]"),
                        ],
                    )
                };
                let element = sql::func("JSON_EXTRACT", vec![t.clone(), at]);
                let eq = self.json_eq(&element, &v, 0, budget)?;
                // Not an array: false; an empty array: NULL (no element), as `t -> 0 = v`.
                let not_array = sql::binop(sql::func("JSON_TYPE", vec![t.clone()]), BinaryOperator::NotEq, sql::string_lit("ARRAY"));
                sql::case_when(
                    not_array,
                    sql::bool_lit(false),
                    Some(sql::case_when(
                        sql::binop(len, BinaryOperator::Gt, sql::int_lit(0)),
                        sql::func("COALESCE", vec![eq, sql::bool_lit(false)]),
                        None,
                    )),
                )
            }
            JsonCond::Not(inner) => sql::not(self.json_cond_mysql(t, whole_column, inner, budget)?),
        })
    }

}

impl Budget {
    fn spend(&mut self, depth: usize) -> Result<(), Error> {
        self.nodes += 1;
        if depth > MAX_DEPTH {
            return Err(Error::new(codes::TOO_DEEP, format!("a JSON value compared on MySQL may nest at most {MAX_DEPTH} levels")));
        }
        if self.nodes > MAX_NODES {
            return Err(Error::new(codes::TOO_LARGE, format!("a JSON value compared on MySQL may have at most {MAX_NODES} values")));
        }
        Ok(())
    }
}

impl Planner<'_> {
    /// True when `e` is exactly `v`, false when it is another value, NULL or false when `e` is
    /// NULL. Members are reached from `e` by bound paths.
    fn json_eq(&mut self, e: &Expr, v: &Json, depth: usize, budget: &mut Budget) -> Result<Expr, Error> {
        budget.spend(depth)?;
        Ok(match v {
            Json::Null => type_is(e.clone(), "NULL"),
            Json::Bool(b) => {
                let p = self.bind_str(b.to_string());
                sql::and(vec![type_is(e.clone(), "BOOLEAN"), sql::eq(unquote(e), p)])
            }
            Json::Number(n) => self.number_cmp(e, BinaryOperator::Eq, n)?,
            Json::String(s) => {
                let p = self.bind_str(s.clone());
                sql::and(vec![type_is(e.clone(), "STRING"), sql::eq(bytes(unquote(e)), bytes(p))])
            }
            Json::Array(items) => {
                let mut parts = vec![type_is(e.clone(), "ARRAY"), self.length_is(e, items.len())];
                for (i, item) in items.iter().enumerate() {
                    let member = self.member(e, format!("$[{i}]"));
                    parts.push(self.json_eq(&member, item, depth + 1, budget)?);
                }
                sql::and(parts)
            }
            Json::Object(map) => {
                let mut parts = vec![type_is(e.clone(), "OBJECT"), self.length_is(e, map.len())];
                for (k, item) in map {
                    let member = self.member(e, format!("${}", key_step(k)));
                    parts.push(self.json_eq(&member, item, depth + 1, budget)?);
                }
                sql::and(parts)
            }
        })
    }

    /// `e @> v` as PostgreSQL's `jsonb` has it: objects contain the candidate's keys with contained
    /// values, arrays contain each candidate element (a scalar as one of their scalar elements, an
    /// object or array inside one of their elements), scalars only themselves; at the top an array
    /// also contains a scalar that is one of its elements.
    fn json_contains(&mut self, e: &Expr, v: &Json, top: bool, depth: usize, budget: &mut Budget) -> Result<Expr, Error> {
        budget.spend(depth)?;
        Ok(match v {
            Json::Array(items) => {
                let mut parts = vec![type_is(e.clone(), "ARRAY")];
                let mut seen: Vec<&Json> = Vec::new();
                for item in items {
                    if seen.contains(&item) {
                        continue;
                    }
                    seen.push(item);
                    parts.push(self.some_element(e, item, depth + 1, budget)?);
                }
                sql::and(parts)
            }
            Json::Object(map) => {
                let mut parts = vec![type_is(e.clone(), "OBJECT")];
                for (k, item) in map {
                    let member = self.member(e, format!("${}", key_step(k)));
                    parts.push(self.json_contains(&member, item, false, depth + 1, budget)?);
                }
                sql::and(parts)
            }
            scalar if top => self.some_element(e, scalar, depth + 1, budget)?,
            scalar => self.json_eq(e, scalar, depth, budget)?,
        })
    }

    /// Some element of the array `e` equals the scalar `v`, or contains the object or array `v`.
    fn some_element(&mut self, e: &Expr, v: &Json, depth: usize, budget: &mut Budget) -> Result<Expr, Error> {
        let alias = self.alias('j');
        let at = sql::func(
            "CONCAT",
            vec![sql::string_lit("$["), sql::binop(sql::col(&alias, "i"), BinaryOperator::Minus, sql::int_lit(1)), sql::string_lit("]")],
        );
        let element = sql::func("JSON_EXTRACT", vec![e.clone(), at]);
        let cond = match v {
            Json::Array(_) | Json::Object(_) => self.json_contains(&element, v, false, depth, budget)?,
            scalar => self.json_eq(&element, scalar, depth, budget)?,
        };
        let table = TableFactor::JsonTable {
            json_expr: e.clone(),
            json_path: SqlValue::SingleQuotedString("$[*]".into()).with_empty_span(),
            columns: vec![JsonTableColumn::ForOrdinality(Ident::new("i"))],
            alias: Some(sql::table_alias(&alias)),
        };
        let q = sql::SelectSpec {
            projection: vec![sql::item(sql::int_lit(1))],
            from: vec![sql::from(table)],
            selection: Some(cond),
            ..Default::default()
        }
        .into_query();
        Ok(sql::exists(q, false))
    }

    fn member(&mut self, e: &Expr, path: String) -> Expr {
        let p = self.bind_str(path);
        sql::func("JSON_EXTRACT", vec![e.clone(), p])
    }

    fn length_is(&mut self, e: &Expr, n: usize) -> Expr {
        let p = self.params.bind(Value::Int(n as i64));
        sql::eq(sql::func("JSON_LENGTH", vec![e.clone()]), p)
    }

    /// `e op n` for the number `n`, NULL when `e` is not a number. A stored number written as
    /// plain digits that fit compares exactly as `DECIMAL(65,30)`; any other (an exponent, more
    /// digits) as `DOUBLE`, since casting it to the DECIMAL would be out of range, an error in a
    /// strict-mode UPDATE. `n` itself must fit the DECIMAL: one that does not is refused rather
    /// than compared rounded.
    fn number_cmp(&mut self, e: &Expr, op: BinaryOperator, n: &serde_json::Number) -> Result<Expr, Error> {
        let text = n.to_string();
        if !fits_decimal(&text) {
            return Err(Error::new(
                codes::OUT_OF_RANGE,
                "a JSON number compared on MySQL must fit DECIMAL(65,30) (35 digits before the point, 30 after)",
            ));
        }
        let p = self.bind_str(text);
        let stored = unquote(e);
        let plain = Expr::RLike {
            negated: false,
            expr: Box::new(stored.clone()),
            pattern: Box::new(sql::string_lit(PLAIN_DECIMAL)),
            regexp: true,
        };
        let exact = sql::binop(sql::cast_std(stored.clone(), DECIMAL), op.clone(), sql::cast_std(p.clone(), DECIMAL));
        let approximate = sql::binop(sql::cast_std(stored, "DOUBLE"), op, sql::cast_std(p, "DOUBLE"));
        let types = NUMBER_TYPES.iter().map(|t| sql::string_lit(t)).collect();
        let is_number = sql::in_list(sql::func("JSON_TYPE", vec![e.clone()]), types);
        Ok(sql::case_when(is_number, sql::case_when(plain, exact, Some(approximate)), None))
    }
}

fn parse(v: &Value) -> Result<Json, Error> {
    match v {
        Value::Json(text) => serde_json::from_str(text).map_err(|_| Error::new(codes::INVALID_VALUE, "a JSON filter value is not valid JSON")),
        _ => Err(Error::new(codes::INVALID_VALUE, "a JSON filter value is not valid JSON")),
    }
}

/// PostgreSQL's NULL where the target is NULL, else the predicate with NULL read as false (a
/// missing member makes a comparison false, as on `jsonb`).
fn defined(t: &Expr, p: Expr) -> Expr {
    sql::case_when(sql::is_not_null(t.clone()), sql::func("COALESCE", vec![p, sql::bool_lit(false)]), None)
}

fn type_is(e: Expr, name: &str) -> Expr {
    sql::eq(sql::func("JSON_TYPE", vec![e]), sql::string_lit(name))
}

fn unquote(e: &Expr) -> Expr {
    sql::func("JSON_UNQUOTE", vec![e.clone()])
}

/// Compared as bytes: `utf8mb4_bin` pads with spaces in `=`, `jsonb` does not.
fn bytes(e: Expr) -> Expr {
    sql::cast_std(e, "BINARY")
}

/// `."key"` in MySQL's JSON path syntax (the key as a JSON string, escapes included).
fn key_step(key: &str) -> String {
    format!(".{}", Json::String(key.to_owned()))
}

/// A path segment that PostgreSQL may read as an array index.
fn index_segment(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Whether a JSON number's text is exact in `DECIMAL(65,30)`.
fn fits_decimal(text: &str) -> bool {
    let t = text.trim_start_matches('-');
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().unwrap_or(i64::MAX)),
        None => (t, 0),
    };
    if exp.abs() > 1000 {
        return false;
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{int}{frac}");
    let point = int.len() as i64 + exp;
    let first = digits.bytes().position(|b| b != b'0');
    let last = digits.bytes().rposition(|b| b != b'0');
    let (Some(first), Some(last)) = (first, last) else { return true };
    let int_digits = point - first as i64;
    let frac_digits = last as i64 + 1 - point;
    int_digits <= 35 && frac_digits <= 30
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_fit() {
        assert!(fits_decimal("1"));
        assert!(fits_decimal("-12.5"));
        assert!(fits_decimal("1e-7"));
        assert!(fits_decimal("1.5e34"));
        assert!(!fits_decimal("1e35"));
        assert!(!fits_decimal("1e-31"));
        assert!(!fits_decimal("1.7976931348623157e308"));
        assert!(fits_decimal("0"));
    }

    #[test]
    fn index_segments() {
        assert_eq!(index_segment("0"), Some(0));
        assert_eq!(index_segment("-2"), Some(-2));
        assert_eq!(index_segment("01"), Some(1));
        assert_eq!(index_segment("a"), None);
        assert_eq!(index_segment("-"), None);
        assert_eq!(key_step("a\"b"), ".\"a\\\"b\"");
    }
}
