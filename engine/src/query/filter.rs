//! `where` arguments -> [`Filter`] trees: scalar operators per field type, `AND` / `OR` / `NOT`,
//! relation filters, JSON and scalar-list filters, and unique `where` inputs.

use super::path::Path;
use super::values::{describe, field_value, json_value, list_value, scalar_value};
use super::{Cmp, Cx, Filter, JsonCond, LikeKind, ListCond, NullKind, RelationCond, ScalarCond, expect_object};
use crate::error::{Result, codes};
use crate::schema::{Arity, Field, FieldId, FieldKind, Model, ModelId, ScalarType};
use crate::value::{Value, as_tagged};
use serde_json::{Map, Value as Json};

/// A `where` object on `model`.
pub fn parse_where(cx: &Cx, model: ModelId, v: &Json, path: &Path, depth: usize) -> Result<Filter> {
    cx.check_depth(depth, path)?;
    let obj = expect_object(v, path, "a where object")?;
    let m = cx.schema.model(model);
    let mut parts = Vec::with_capacity(obj.len());
    for (key, val) in obj {
        let p = path.key(key);
        match key.as_str() {
            "AND" => parts.push(Filter::And(where_list(cx, model, val, &p, depth)?)),
            "OR" => parts.push(Filter::Or(where_list(cx, model, val, &p, depth)?)),
            "NOT" => match val {
                Json::Array(_) => {
                    let items = where_list(cx, model, val, &p, depth)?;
                    parts.push(Filter::And(items.into_iter().map(|f| Filter::Not(Box::new(f))).collect()))
                }
                _ => parts.push(Filter::Not(Box::new(parse_where(cx, model, val, &p, depth + 1)?))),
            },
            _ => {
                let Some(fid) = m.find_field(key).filter(|f| !m.field(*f).ignored) else {
                    return Err(unknown_field(m, key, &p));
                };
                parts.push(field_filter(cx, m, fid, val, &p, depth)?);
            }
        }
    }
    Ok(simplify_and(parts))
}

fn where_list(cx: &Cx, model: ModelId, v: &Json, path: &Path, depth: usize) -> Result<Vec<Filter>> {
    match v {
        Json::Array(items) => {
            cx.check_list(items.len(), path)?;
            items.iter().enumerate().map(|(i, item)| parse_where(cx, model, item, &path.index(i), depth + 1)).collect()
        }
        Json::Object(_) => Ok(vec![parse_where(cx, model, v, path, depth + 1)?]),
        _ => Err(path.error(codes::INVALID_VALUE, format!("expected a where object or a list of them, got {}", describe(v)))),
    }
}

pub(crate) fn unknown_field(m: &Model, key: &str, path: &Path) -> crate::error::Error {
    let names: Vec<&str> = m.fields.iter().filter(|f| !f.ignored).map(|f| f.name.as_str()).collect();
    path.unknown("field", key, &format!(" on model {}", m.name), &names)
}

fn simplify_and(mut parts: Vec<Filter>) -> Filter {
    if parts.len() == 1 { parts.pop().unwrap_or(Filter::Const(true)) } else { Filter::And(parts) }
}

fn field_filter(cx: &Cx, m: &Model, fid: FieldId, v: &Json, path: &Path, depth: usize) -> Result<Filter> {
    let field = m.field(fid);
    match &field.kind {
        FieldKind::Scalar(s) => {
            let conds = scalar_filter(cx, field, &s.ty, v, path)?;
            let mut parts: Vec<Filter> = conds.into_iter().map(|cond| Filter::Scalar { field: fid, cond }).collect();
            Ok(if parts.len() == 1 { parts.pop().unwrap_or(Filter::Const(true)) } else { Filter::And(parts) })
        }
        FieldKind::Relation(r) => relation_filter(cx, field, fid, r.related, v, path, depth),
    }
}

fn relation_filter(
    cx: &Cx,
    field: &Field,
    fid: FieldId,
    related: ModelId,
    v: &Json,
    path: &Path,
    depth: usize,
) -> Result<Filter> {
    let rel = |cond, filter| Filter::Relation { field: fid, cond, filter: Box::new(filter) };
    if field.is_list() {
        let obj = expect_object(v, path, "an object with some, every or none")?;
        let mut parts = Vec::new();
        for (key, val) in obj {
            let p = path.key(key);
            let cond = match key.as_str() {
                "some" => RelationCond::Some,
                "every" => RelationCond::Every,
                "none" => RelationCond::None,
                _ => return Err(p.unknown("relation filter", key, &format!(" for list relation {}", field.name), &["some", "every", "none"])),
            };
            parts.push(rel(cond, parse_where(cx, related, val, &p, depth + 1)?));
        }
        return Ok(simplify_and(parts));
    }
    // To-one: null, { is, isNot }, or a where object on the related model.
    if v.is_null() {
        if field.arity == Arity::Required {
            return Err(path.error(codes::INVALID_VALUE, format!("relation {} is required and cannot be null", field.name)));
        }
        return Ok(Filter::Not(Box::new(rel(RelationCond::Is, Filter::Const(true)))));
    }
    let obj = expect_object(v, path, "a where object, { is } / { isNot }, or null")?;
    let explicit = !obj.is_empty() && obj.keys().all(|k| k == "is" || k == "isNot");
    if !explicit {
        return Ok(rel(RelationCond::Is, parse_where(cx, related, v, path, depth + 1)?));
    }
    let mut parts = Vec::new();
    for (key, val) in obj {
        let p = path.key(key);
        let cond = if key == "is" { RelationCond::Is } else { RelationCond::IsNot };
        if val.is_null() {
            // `is: null` = no related row; `isNot: null` = a related row exists.
            let exists = rel(RelationCond::Is, Filter::Const(true));
            parts.push(if cond == RelationCond::Is { Filter::Not(Box::new(exists)) } else { exists });
        } else {
            parts.push(rel(cond, parse_where(cx, related, val, &p, depth + 1)?));
        }
    }
    Ok(simplify_and(parts))
}

const STRING_OPS: &[&str] = &["equals", "not", "in", "notIn", "lt", "lte", "gt", "gte", "contains", "startsWith", "endsWith", "mode"];
const ORDERED_OPS: &[&str] = &["equals", "not", "in", "notIn", "lt", "lte", "gt", "gte"];
const EQUALITY_OPS: &[&str] = &["equals", "not", "in", "notIn"];
const BOOL_OPS: &[&str] = &["equals", "not"];
const LIST_OPS: &[&str] = &["equals", "has", "hasEvery", "hasSome", "isEmpty"];
const JSON_OPS: &[&str] = &[
    "path", "equals", "not", "string_contains", "string_starts_with", "string_ends_with",
    "array_contains", "array_starts_with", "array_ends_with", "lt", "lte", "gt", "gte", "mode",
];

fn ops_for(ty: &ScalarType) -> &'static [&'static str] {
    match ty {
        ScalarType::String => STRING_OPS,
        ScalarType::Int | ScalarType::BigInt | ScalarType::Float | ScalarType::Decimal | ScalarType::DateTime => ORDERED_OPS,
        ScalarType::Boolean => BOOL_OPS,
        ScalarType::Bytes | ScalarType::Enum(_) => EQUALITY_OPS,
        ScalarType::Json => JSON_OPS,
        ScalarType::Unsupported(_) => &[],
    }
}

/// A filter on one scalar field: a value (shorthand for equals), null, or an operator object.
fn scalar_filter(cx: &Cx, field: &Field, ty: &ScalarType, v: &Json, path: &Path) -> Result<Vec<ScalarCond>> {
    if let ScalarType::Unsupported(_) = ty {
        return Err(path.error(codes::UNSUPPORTED, format!("field {} has an Unsupported type and cannot be filtered", field.name)));
    }
    if field.arity == Arity::List {
        return list_filter(cx, field, ty, v, path);
    }
    if *ty == ScalarType::Json {
        return json_filter(v, path);
    }
    match v {
        Json::Object(obj) if as_tagged(v).is_none() => operator_filter(cx, field, ty, obj, path),
        _ => Ok(vec![equals(cx, field, ty, v, path, false)?]),
    }
}

fn equals(cx: &Cx, field: &Field, ty: &ScalarType, v: &Json, path: &Path, insensitive: bool) -> Result<ScalarCond> {
    if v.is_null() {
        if field.arity == Arity::Required {
            return Err(path.error(codes::INVALID_VALUE, format!("field {} is required and cannot be null", field.name)));
        }
        return Ok(ScalarCond::IsNull);
    }
    Ok(ScalarCond::Cmp { op: Cmp::Eq, value: scalar_value(cx.schema, ty, v, path)?, insensitive })
}

fn operator_filter(cx: &Cx, field: &Field, ty: &ScalarType, obj: &Map<String, Json>, path: &Path) -> Result<Vec<ScalarCond>> {
    let allowed = ops_for(ty);
    let insensitive = match obj.get("mode") {
        None => false,
        Some(Json::String(m)) if m == "insensitive" => true,
        Some(Json::String(m)) if m == "default" => false,
        Some(_) => return Err(path.key("mode").error(codes::INVALID_VALUE, "expected \"default\" or \"insensitive\"")),
    };
    let mut out = Vec::with_capacity(obj.len());
    for (op, val) in obj {
        let p = path.key(op);
        if !allowed.contains(&op.as_str()) {
            return Err(p.unknown("operator", op, &format!(" for field {}", field.name), allowed));
        }
        let value = |v: &Json| scalar_value(cx.schema, ty, v, &p);
        let cond = match op.as_str() {
            "mode" => continue,
            "equals" => equals(cx, field, ty, val, &p, insensitive)?,
            "not" => match val {
                Json::Object(inner) if as_tagged(val).is_none() => {
                    ScalarCond::Not(operator_filter(cx, field, ty, inner, &p)?)
                }
                _ => ScalarCond::Not(vec![equals(cx, field, ty, val, &p, insensitive)?]),
            },
            "in" | "notIn" => {
                let items = val
                    .as_array()
                    .ok_or_else(|| p.error(codes::INVALID_VALUE, format!("expected a list, got {}", describe(val))))?;
                let values = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| scalar_value(cx.schema, ty, item, &p.index(i)))
                    .collect::<Result<Vec<_>>>()?;
                let cond = ScalarCond::In { values, insensitive };
                if op == "in" { cond } else { ScalarCond::Not(vec![cond]) }
            }
            "lt" | "lte" | "gt" | "gte" => {
                let cmp = match op.as_str() {
                    "lt" => Cmp::Lt,
                    "lte" => Cmp::Lte,
                    "gt" => Cmp::Gt,
                    _ => Cmp::Gte,
                };
                ScalarCond::Cmp { op: cmp, value: value(val)?, insensitive }
            }
            "contains" | "startsWith" | "endsWith" => {
                let kind = match op.as_str() {
                    "contains" => LikeKind::Contains,
                    "startsWith" => LikeKind::StartsWith,
                    _ => LikeKind::EndsWith,
                };
                let Json::String(s) = val else {
                    return Err(p.error(codes::INVALID_VALUE, format!("expected a String, got {}", describe(val))));
                };
                ScalarCond::Like { kind, value: s.clone(), insensitive }
            }
            _ => return Err(p.unknown("operator", op, "", allowed)),
        };
        out.push(cond);
    }
    Ok(out)
}

fn list_filter(cx: &Cx, field: &Field, ty: &ScalarType, v: &Json, path: &Path) -> Result<Vec<ScalarCond>> {
    let obj = expect_object(v, path, "an object with has, hasEvery, hasSome, isEmpty or equals")?;
    let mut out = Vec::new();
    for (op, val) in obj {
        let p = path.key(op);
        let cond = match op.as_str() {
            "has" => {
                if val.is_null() {
                    return Err(p.error(codes::INVALID_VALUE, "has cannot be null"));
                }
                ListCond::Has(scalar_value(cx.schema, ty, val, &p)?)
            }
            "hasEvery" | "hasSome" | "equals" => {
                if op == "equals" && val.is_null() {
                    out.push(ScalarCond::IsNull);
                    continue;
                }
                let Value::List(items) = list_value(cx.schema, ty, val, &p)? else {
                    return Err(p.error(codes::INVALID_VALUE, "expected a list"));
                };
                match op.as_str() {
                    "hasEvery" => ListCond::HasEvery(items),
                    "hasSome" => ListCond::HasSome(items),
                    _ => ListCond::Equals(items),
                }
            }
            "isEmpty" => match val {
                Json::Bool(b) => ListCond::IsEmpty(*b),
                _ => return Err(p.error(codes::INVALID_VALUE, format!("expected a Boolean, got {}", describe(val)))),
            },
            _ => return Err(p.unknown("operator", op, &format!(" for list field {}", field.name), LIST_OPS)),
        };
        out.push(ScalarCond::List(cond));
    }
    Ok(out)
}

/// JSON filters: `{ path?: [...], equals | not | string_* | array_* | lt.. : value }`.
/// `null` / `"DbNull"` / `"JsonNull"` / `"AnyNull"` follow Prisma's null kinds.
fn json_filter(v: &Json, path: &Path) -> Result<Vec<ScalarCond>> {
    let obj = expect_object(v, path, "a Json filter object (equals, path, string_contains, ...)")?;
    let json_path: Vec<String> = match obj.get("path") {
        None => vec![],
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, s)| match s {
                Json::String(s) => Ok(s.clone()),
                Json::Number(n) => Ok(n.to_string()),
                _ => Err(path.key("path").index(i).error(codes::INVALID_VALUE, "expected a path segment string")),
            })
            .collect::<Result<_>>()?,
        Some(Json::String(s)) => string_path(s).ok_or_else(|| {
            path.key("path").error(codes::INVALID_VALUE, "expected a JSON path such as $.a.b[0] or $.\"a key\"")
        })?,
        Some(other) => {
            return Err(path.key("path").error(codes::INVALID_VALUE, format!("expected a list of keys, got {}", describe(other))));
        }
    };
    let insensitive = matches!(obj.get("mode"), Some(Json::String(m)) if m == "insensitive");
    let mut conds = Vec::new();
    for (op, val) in obj {
        let p = path.key(op);
        let cond = match op.as_str() {
            "path" | "mode" => continue,
            "equals" => json_equals(val),
            "not" => JsonCond::Not(Box::new(json_equals(val))),
            "string_contains" | "string_starts_with" | "string_ends_with" => {
                let kind = match op.as_str() {
                    "string_contains" => LikeKind::Contains,
                    "string_starts_with" => LikeKind::StartsWith,
                    _ => LikeKind::EndsWith,
                };
                let Json::String(s) = val else {
                    return Err(p.error(codes::INVALID_VALUE, format!("expected a String, got {}", describe(val))));
                };
                JsonCond::StringLike { kind, value: s.clone(), insensitive }
            }
            "array_contains" => JsonCond::ArrayContains(json_value(val)),
            "array_starts_with" => JsonCond::ArrayStartsWith(json_value(val)),
            "array_ends_with" => JsonCond::ArrayEndsWith(json_value(val)),
            "lt" | "lte" | "gt" | "gte" => {
                let cmp = match op.as_str() {
                    "lt" => Cmp::Lt,
                    "lte" => Cmp::Lte,
                    "gt" => Cmp::Gt,
                    _ => Cmp::Gte,
                };
                if !(val.is_number() || val.is_string()) {
                    return Err(p.error(codes::INVALID_VALUE, format!("expected a number or a string, got {}", describe(val))));
                }
                JsonCond::Cmp { op: cmp, value: json_value(val) }
            }
            _ => return Err(p.unknown("operator", op, " for a Json field", JSON_OPS)),
        };
        conds.push(cond);
    }
    if conds.is_empty() {
        return Err(path.error(codes::MISSING_ARGUMENT, "a Json filter needs an operator such as equals"));
    }
    Ok(conds.into_iter().map(|cond| ScalarCond::Json { path: json_path.clone(), cond }).collect())
}

/// A path given as one string, as Prisma takes it on MySQL: `$.a.b[0]`, `$."a key"`, or (without
/// `$`) keys separated by dots. Each step becomes one segment, an index as its digits, so the
/// string and the list forms mean the same on every database. Wildcards are not paths here.
fn string_path(s: &str) -> Option<Vec<String>> {
    let Some(mut rest) = s.strip_prefix('$') else {
        return Some(s.split('.').map(str::to_owned).collect());
    };
    let mut out = Vec::new();
    while let Some(c) = rest.chars().next() {
        match c {
            '.' if rest[1..].starts_with('"') => {
                let body = &rest[1..];
                let mut end = None;
                let mut escaped = false;
                for (i, ch) in body.char_indices().skip(1) {
                    match ch {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end?;
                out.push(serde_json::from_str::<String>(&body[..=end]).ok()?);
                rest = &body[end + 1..];
            }
            '.' => {
                let body = &rest[1..];
                let end = body.find(['.', '[']).unwrap_or(body.len());
                let key = &body[..end];
                if key.is_empty() || key.contains(['*', '"', ' ', ']']) {
                    return None;
                }
                out.push(key.to_owned());
                rest = &body[end..];
            }
            '[' => {
                let end = rest.find(']')?;
                let index = rest[1..end].trim();
                if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                out.push(index.to_owned());
                rest = &rest[end + 1..];
            }
            _ => return None,
        }
    }
    Some(out)
}

fn json_equals(v: &Json) -> JsonCond {
    match v {
        Json::Null => JsonCond::IsNull(NullKind::Db),
        Json::String(s) if s == "DbNull" => JsonCond::IsNull(NullKind::Db),
        Json::String(s) if s == "JsonNull" => JsonCond::IsNull(NullKind::Json),
        Json::String(s) if s == "AnyNull" => JsonCond::IsNull(NullKind::Any),
        _ => JsonCond::Equals(json_value(v)),
    }
}

/// A unique `where` (findUnique, cursor, update, delete, connect): it must name a whole unique
/// criterion (`@id`, `@unique`, `@@id` / `@@unique` by name), and may add other filters.
pub fn parse_unique_where(cx: &Cx, model: ModelId, v: &Json, path: &Path, depth: usize) -> Result<Filter> {
    cx.check_depth(depth, path)?;
    let m = cx.schema.model(model);
    let obj = expect_object(v, path, "a unique where object")?;
    let mut has_unique = false;
    let mut parts = Vec::with_capacity(obj.len());
    let mut rest = Map::new();
    for (key, val) in obj {
        let p = path.key(key);
        if let Some(fields) = compound_key(m, key) {
            let inner = expect_object(val, &p, &format!("an object with the fields of {key}"))?;
            for fid in fields {
                let f = m.field(*fid);
                let fp = p.key(&f.name);
                let fv = inner
                    .get(&f.name)
                    .ok_or_else(|| fp.error(codes::MISSING_ARGUMENT, format!("missing field {} of {key}", f.name)))?;
                let ty = &f.as_scalar().ok_or_else(|| fp.error(codes::INVALID_VALUE, "not a scalar field"))?.ty;
                let value = scalar_value(cx.schema, ty, fv, &fp)?;
                parts.push(Filter::Scalar { field: *fid, cond: ScalarCond::Cmp { op: Cmp::Eq, value, insensitive: false } });
            }
            for k in inner.keys() {
                if !fields.iter().any(|f| &m.field(*f).name == k) {
                    return Err(p.key(k).unknown("field", k, &format!(" in {key}"), &[]));
                }
            }
            has_unique = true;
        } else if let Some(fid) = single_unique(m, key) {
            let f = m.field(fid);
            let ty = f.as_scalar().map(|s| s.ty.clone()).unwrap_or(ScalarType::String);
            if val.is_object() && as_tagged(val).is_none() {
                // `{ id: { equals: 1 } }` is a filter, still unique when it has `equals`.
                let inner = val.as_object().cloned().unwrap_or_default();
                if inner.get("equals").is_some_and(|e| !e.is_null()) {
                    has_unique = true;
                }
                rest.insert(key.clone(), val.clone());
            } else {
                if val.is_null() {
                    return Err(p.error(codes::INVALID_VALUE, format!("unique field {key} cannot be null here")));
                }
                let value = field_value(cx.schema, f, &ty, val, &p)?;
                parts.push(Filter::Scalar { field: fid, cond: ScalarCond::Cmp { op: Cmp::Eq, value, insensitive: false } });
                has_unique = true;
            }
        } else {
            rest.insert(key.clone(), val.clone());
        }
    }
    if !has_unique {
        let mut names: Vec<String> = Vec::new();
        if let Some(pk) = &m.primary_key {
            names.push(key_name(m, &pk.fields, pk.name.as_deref()));
        }
        for u in &m.uniques {
            names.push(key_name(m, &u.fields, u.name.as_deref()));
        }
        return Err(path.error(
            codes::MISSING_ARGUMENT,
            format!("a unique where on {} needs one of: {}", m.name, names.join(", ")),
        ));
    }
    if !rest.is_empty() {
        parts.push(parse_where(cx, model, &Json::Object(rest), path, depth)?);
    }
    Ok(simplify_and(parts))
}

/// The `where` key of a unique criterion: the field for one field, else its name or `a_b`.
pub(crate) fn key_name(m: &Model, fields: &[FieldId], name: Option<&str>) -> String {
    m.key_name(fields, name)
}

fn compound_key<'m>(m: &'m Model, key: &str) -> Option<&'m [FieldId]> {
    let pk = m.primary_key.iter().map(|pk| (&pk.fields, pk.name.as_deref()));
    let uniques = m.uniques.iter().map(|u| (&u.fields, u.name.as_deref()));
    pk.chain(uniques)
        .filter(|(fields, _)| fields.len() > 1)
        .find(|(fields, name)| key_name(m, fields, *name) == key)
        .map(|(fields, _)| fields.as_slice())
}

fn single_unique(m: &Model, key: &str) -> Option<FieldId> {
    let fid = m.find_field(key)?;
    let single = |fields: &Vec<FieldId>| fields.len() == 1 && fields[0] == fid;
    (m.primary_key.as_ref().is_some_and(|pk| single(&pk.fields)) || m.uniques.iter().any(|u| single(&u.fields)))
        .then_some(fid)
}

/// Conditions on a value of `ty` that is not a model field (aggregates in `having`): the same
/// operators as a nullable field of that type.
pub(crate) fn conditions_for_type(cx: &Cx, ty: &ScalarType, v: &Json, path: &Path) -> Result<Vec<ScalarCond>> {
    let field = Field {
        name: "aggregate".into(),
        arity: Arity::Optional,
        kind: FieldKind::Scalar(crate::schema::ScalarField {
            db_name: String::new(),
            ty: ty.clone(),
            native_type: None,
            default: None,
            updated_at: false,
            is_id: false,
            is_unique: false,
        }),
        ignored: false,
        documentation: None,
    };
    scalar_filter(cx, &field, ty, v, path)
}

#[cfg(test)]
mod tests {
    use super::string_path;

    #[test]
    fn string_paths_read_mysql_syntax() {
        let p = |s: &str| string_path(s).map(|v| v.join("|"));
        assert_eq!(p("$.a.b"), Some("a|b".into()));
        assert_eq!(p("$.limits[0]"), Some("limits|0".into()));
        assert_eq!(p("$[2].x"), Some("2|x".into()));
        assert_eq!(p(r#"$."a.b"."c\"d""#), Some("a.b|c\"d".into()));
        assert_eq!(p("$"), Some("".into()));
        assert_eq!(p("a.b"), Some("a|b".into()));
        assert_eq!(p("$.a[*]"), None);
        assert_eq!(p("$.*"), None);
        assert_eq!(p("$**.a"), None);
        assert_eq!(p(r#"$."open"#), None);
    }
}
