//! Arguments of reads: `select` / `include` / `omit` (nested to any depth), `orderBy`, `cursor`,
//! `take`, `skip`, `distinct`, `_count`, and the argument sets of each read action.

use super::filter::{parse_unique_where, parse_where, unknown_field};
use super::path::Path;
use super::values::{describe, integer};
use super::{
    Action, Args, CountArgs, CountItem, Cx, OrderBy, OrderTarget, ReadArgs, Selection, SelectionItem, expect_object,
};
use crate::error::{Result, codes};
use crate::schema::{FieldId, FieldKind, Model, ModelId, ScalarType};
use serde_json::{Map, Value as Json};

pub fn parse_args(cx: &Cx, model: ModelId, action: Action, args: &Json, path: &Path) -> Result<Args> {
    let obj = expect_object(args, path, "an arguments object")?;
    match action {
        Action::FindUnique | Action::FindUniqueOrThrow => {
            check_keys(obj, path, &["where", "select", "include", "omit", "relationLoadStrategy"])?;
            let w = obj.get("where").ok_or_else(|| path.key("where").error(codes::MISSING_ARGUMENT, "findUnique needs a unique where"))?;
            let mut read = ReadArgs::new(model, parse_selection(cx, model, obj, path, 1)?);
            read.filter = Some(parse_unique_where(cx, model, w, &path.key("where"), 1)?);
            Ok(Args::Read(read))
        }
        Action::FindFirst | Action::FindFirstOrThrow | Action::FindMany => {
            check_keys(
                obj,
                path,
                &["where", "orderBy", "cursor", "take", "skip", "distinct", "select", "include", "omit", "relationLoadStrategy"],
            )?;
            let mut read = parse_read(cx, model, obj, path, 1)?;
            if action != Action::FindMany {
                // findFirst is findMany with take 1 (a negative take keeps its direction).
                read.take = Some(if read.take.is_some_and(|t| t < 0) { -1 } else { 1 });
            }
            Ok(Args::Read(read))
        }
        Action::Count => {
            check_keys(obj, path, &["where", "orderBy", "cursor", "take", "skip", "distinct", "select"])?;
            let mut window = obj.clone();
            window.remove("select");
            let read = parse_read(cx, model, &window, path, 1)?;
            let select = match obj.get("select") {
                None | Some(Json::Bool(true)) => vec![],
                Some(s) => count_select(cx.schema.model(model), s, &path.key("select"))?,
            };
            Ok(Args::Count(CountArgs { read, select }))
        }
        Action::Aggregate => super::aggregate::parse_aggregate(cx, model, obj, path),
        Action::GroupBy => super::aggregate::parse_group_by(cx, model, obj, path),
        _ => super::write::parse_write(cx, model, action, obj, path),
    }
}

/// The selection arguments (`select` / `include` / `omit`) of a write's result.
pub(crate) fn parse_selection_args(cx: &Cx, model: ModelId, obj: &Map<String, Json>, path: &Path, depth: usize) -> Result<Selection> {
    parse_selection(cx, model, obj, path, depth)
}

/// The window of an aggregate: filter, order, cursor, skip, take, with no selection.
pub(crate) fn parse_read_window(cx: &Cx, model: ModelId, obj: &Map<String, Json>, path: &Path) -> Result<ReadArgs> {
    let mut window = obj.clone();
    for k in ["select", "include", "omit"] {
        window.remove(k);
    }
    let mut read = parse_read(cx, model, &window, path, 1)?;
    read.selection = Selection::default();
    Ok(read)
}

pub(crate) fn check_keys(obj: &Map<String, Json>, path: &Path, allowed: &[&str]) -> Result<()> {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(path.key(key).unknown("argument", key, "", allowed));
        }
    }
    Ok(())
}

/// A full read (`findMany`-shaped arguments) at `depth`.
/// The largest `skip`: JavaScript's largest safe integer, so that every engine and driver (some
/// carry parameters as JavaScript numbers) binds the same number.
const MAX_SKIP: i64 = 9_007_199_254_740_991;

fn parse_read(cx: &Cx, model: ModelId, obj: &Map<String, Json>, path: &Path, depth: usize) -> Result<ReadArgs> {
    let mut read = ReadArgs::new(model, parse_selection(cx, model, obj, path, depth)?);
    if let Some(w) = obj.get("where") {
        read.filter = Some(parse_where(cx, model, w, &path.key("where"), depth)?);
    }
    if let Some(o) = obj.get("orderBy") {
        read.order_by = parse_order_by(cx, model, o, &path.key("orderBy"))?;
    }
    if let Some(c) = obj.get("cursor") {
        read.cursor = Some(parse_unique_where(cx, model, c, &path.key("cursor"), depth)?);
    }
    if let Some(t) = obj.get("take").filter(|t| !t.is_null()) {
        let p = path.key("take");
        let take = integer(t, &p)?;
        if take.unsigned_abs() > cx.options.max_take.unsigned_abs() {
            return Err(p.error(codes::OUT_OF_RANGE, format!("take is limited to {} rows", cx.options.max_take)));
        }
        read.take = Some(take);
    }
    if let Some(s) = obj.get("skip").filter(|s| !s.is_null()) {
        let p = path.key("skip");
        let skip = integer(s, &p)?;
        if skip < 0 {
            return Err(p.error(codes::OUT_OF_RANGE, "skip cannot be negative"));
        }
        if skip > MAX_SKIP {
            return Err(p.error(codes::OUT_OF_RANGE, format!("skip is limited to {MAX_SKIP} (2^53 - 1) rows")));
        }
        read.skip = Some(skip);
    }
    if let Some(d) = obj.get("distinct") {
        read.distinct = parse_distinct(cx.schema.model(model), d, &path.key("distinct"))?;
    }
    Ok(read)
}

/// The selection of a read: `select`, or the default scalars minus `omit` plus `include`.
fn parse_selection(cx: &Cx, model: ModelId, obj: &Map<String, Json>, path: &Path, depth: usize) -> Result<Selection> {
    cx.check_depth(depth, path)?;
    let m = cx.schema.model(model);
    let select = obj.get("select").filter(|v| !v.is_null());
    let include = obj.get("include").filter(|v| !v.is_null());
    let omit = obj.get("omit").filter(|v| !v.is_null());
    if select.is_some() && include.is_some() {
        return Err(path.error(codes::CONFLICTING_ARGUMENTS, "use either select or include, not both"));
    }
    if select.is_some() && omit.is_some() {
        return Err(path.error(codes::CONFLICTING_ARGUMENTS, "use either select or omit, not both"));
    }
    let mut items = Vec::new();
    if let Some(sel) = select {
        let p = path.key("select");
        let sel = expect_object(sel, &p, "an object of fields")?;
        for (key, val) in sel {
            if let Some(item) = selection_item(cx, m, key, val, &p.key(key), depth, true)? {
                items.push(item);
            }
        }
        if items.is_empty() {
            return Err(p.error(codes::INVALID_VALUE, "select must select at least one field"));
        }
        return Ok(Selection { items });
    }
    let mut omitted: Vec<FieldId> = Vec::new();
    if let Some(o) = omit {
        let p = path.key("omit");
        for (key, val) in expect_object(o, &p, "an object of fields")? {
            let kp = p.key(key);
            let fid = m.find_field(key).filter(|f| !m.field(*f).ignored).ok_or_else(|| unknown_field(m, key, &kp))?;
            if m.field(fid).as_scalar().is_none() {
                return Err(kp.error(codes::INVALID_VALUE, format!("{key} is a relation; omit applies to scalar fields")));
            }
            match val {
                Json::Bool(true) => omitted.push(fid),
                Json::Bool(false) => {}
                _ => return Err(kp.error(codes::INVALID_VALUE, format!("expected a Boolean, got {}", describe(val)))),
            }
        }
    }
    items.extend(default_scalars(m).filter(|f| !omitted.contains(f)).map(SelectionItem::Scalar));
    if let Some(inc) = include {
        let p = path.key("include");
        for (key, val) in expect_object(inc, &p, "an object of relations")? {
            if let Some(item) = selection_item(cx, m, key, val, &p.key(key), depth, false)? {
                items.push(item);
            }
        }
    }
    Ok(Selection { items })
}

/// Scalar fields selected when nothing says otherwise.
pub(crate) fn default_scalars(m: &Model) -> impl Iterator<Item = FieldId> + '_ {
    m.scalar_fields().filter(|(_, _, s)| !matches!(s.ty, ScalarType::Unsupported(_))).map(|(id, _, _)| id)
}

fn selection_item(
    cx: &Cx,
    m: &Model,
    key: &str,
    val: &Json,
    path: &Path,
    depth: usize,
    in_select: bool,
) -> Result<Option<SelectionItem>> {
    if key == "_count" {
        return count_selection(cx, m, val, path, depth).map(|c| c.map(SelectionItem::Count));
    }
    let fid = m.find_field(key).filter(|f| !m.field(*f).ignored).ok_or_else(|| unknown_field(m, key, path))?;
    let field = m.field(fid);
    match &field.kind {
        FieldKind::Scalar(s) => {
            if !in_select {
                return Err(path.error(codes::INVALID_VALUE, format!("{key} is a scalar field; include takes relations")));
            }
            if let ScalarType::Unsupported(_) = s.ty {
                return Err(path.error(codes::UNSUPPORTED, format!("field {key} has an Unsupported type and cannot be selected")));
            }
            match val {
                Json::Bool(true) => Ok(Some(SelectionItem::Scalar(fid))),
                Json::Bool(false) => Ok(None),
                _ => Err(path.error(codes::INVALID_VALUE, format!("expected a Boolean for scalar field {key}, got {}", describe(val)))),
            }
        }
        FieldKind::Relation(r) => {
            let nested = match val {
                Json::Bool(false) => return Ok(None),
                Json::Bool(true) => ReadArgs::new(r.related, parse_selection(cx, r.related, &Map::new(), path, depth + 1)?),
                Json::Object(obj) => {
                    let allowed: &[&str] = if field.is_list() {
                        &["where", "orderBy", "cursor", "take", "skip", "distinct", "select", "include", "omit"]
                    } else {
                        &["select", "include", "omit"]
                    };
                    check_keys(obj, path, allowed)?;
                    parse_read(cx, r.related, obj, path, depth + 1)?
                }
                _ => return Err(path.error(codes::INVALID_VALUE, format!("expected a Boolean or an object for relation {key}, got {}", describe(val)))),
            };
            Ok(Some(SelectionItem::Relation(fid, Box::new(nested))))
        }
    }
}

/// `_count: true` (every to-many relation) or `_count: { select: { posts: true | { where } } }`.
fn count_selection(cx: &Cx, m: &Model, val: &Json, path: &Path, depth: usize) -> Result<Option<Vec<CountItem>>> {
    let list_relations = || m.relation_fields().filter(|(_, f, _)| f.is_list()).map(|(id, _, _)| id);
    match val {
        Json::Bool(false) => Ok(None),
        Json::Bool(true) => Ok(Some(list_relations().map(|relation| CountItem { relation, filter: None }).collect())),
        Json::Object(obj) => {
            check_keys(obj, path, &["select"])?;
            let Some(sel) = obj.get("select") else { return Ok(Some(list_relations().map(|relation| CountItem { relation, filter: None }).collect())) };
            let sp = path.key("select");
            let mut items = Vec::new();
            for (key, v) in expect_object(sel, &sp, "an object of list relations")? {
                let kp = sp.key(key);
                let fid = m.find_field(key).ok_or_else(|| unknown_field(m, key, &kp))?;
                let field = m.field(fid);
                let Some(r) = field.as_relation().filter(|_| field.is_list()) else {
                    return Err(kp.error(codes::INVALID_VALUE, format!("_count applies to list relations; {key} is not one")));
                };
                match v {
                    Json::Bool(true) => items.push(CountItem { relation: fid, filter: None }),
                    Json::Bool(false) => {}
                    Json::Object(o) => {
                        check_keys(o, &kp, &["where"])?;
                        let filter = match o.get("where") {
                            Some(w) => Some(parse_where(cx, r.related, w, &kp.key("where"), depth + 1)?),
                            None => None,
                        };
                        items.push(CountItem { relation: fid, filter });
                    }
                    _ => return Err(kp.error(codes::INVALID_VALUE, format!("expected a Boolean or {{ where }}, got {}", describe(v)))),
                }
            }
            Ok(Some(items))
        }
        _ => Err(path.error(codes::INVALID_VALUE, format!("expected a Boolean or {{ select }}, got {}", describe(val)))),
    }
}

fn parse_order_by(cx: &Cx, model: ModelId, v: &Json, path: &Path) -> Result<Vec<OrderBy>> {
    let mut out = Vec::new();
    match v {
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                order_object(cx, model, item, &path.index(i), &mut Vec::new(), &mut out)?;
            }
        }
        _ => order_object(cx, model, v, path, &mut Vec::new(), &mut out)?,
    }
    Ok(out)
}

fn order_object(cx: &Cx, model: ModelId, v: &Json, path: &Path, rel_path: &mut Vec<FieldId>, out: &mut Vec<OrderBy>) -> Result<()> {
    cx.check_depth(rel_path.len() + 1, path)?;
    let m = cx.schema.model(model);
    let obj = expect_object(v, path, "an orderBy object such as { field: \"asc\" }")?;
    for (key, val) in obj {
        let p = path.key(key);
        let fid = m.find_field(key).filter(|f| !m.field(*f).ignored).ok_or_else(|| unknown_field(m, key, &p))?;
        let field = m.field(fid);
        match &field.kind {
            FieldKind::Scalar(s) => {
                if field.is_list() || matches!(s.ty, ScalarType::Json | ScalarType::Unsupported(_)) {
                    return Err(p.error(codes::INVALID_VALUE, format!("cannot order by {key}")));
                }
                let (desc, nulls_first) = sort_order(val, &p)?;
                out.push(OrderBy { path: rel_path.clone(), target: OrderTarget::Field(fid), desc, nulls_first });
            }
            FieldKind::Relation(_) if field.is_list() => {
                let inner = expect_object(val, &p, "{ _count: \"asc\" | \"desc\" }")?;
                check_keys(inner, &p, &["_count"])?;
                let c = inner.get("_count").ok_or_else(|| p.error(codes::MISSING_ARGUMENT, "expected { _count: \"asc\" | \"desc\" }"))?;
                let (desc, _) = sort_order(c, &p.key("_count"))?;
                out.push(OrderBy { path: rel_path.clone(), target: OrderTarget::RelationCount(fid), desc, nulls_first: None });
            }
            FieldKind::Relation(r) => {
                rel_path.push(fid);
                order_object(cx, r.related, val, &p, rel_path, out)?;
                rel_path.pop();
            }
        }
    }
    Ok(())
}

/// `"asc"`, `"desc"` or `{ sort, nulls }`.
pub(crate) fn sort_order(v: &Json, path: &Path) -> Result<(bool, Option<bool>)> {
    let dir = |s: &str, p: &Path| match s {
        "asc" => Ok(false),
        "desc" => Ok(true),
        _ => Err(p.error(codes::INVALID_VALUE, "expected \"asc\" or \"desc\"")),
    };
    match v {
        Json::String(s) => Ok((dir(s, path)?, None)),
        Json::Object(obj) => {
            check_keys(obj, path, &["sort", "nulls"])?;
            let sort = obj.get("sort").and_then(Json::as_str).ok_or_else(|| path.key("sort").error(codes::MISSING_ARGUMENT, "expected sort: \"asc\" or \"desc\""))?;
            let nulls = match obj.get("nulls") {
                None => None,
                Some(Json::String(n)) if n == "first" => Some(true),
                Some(Json::String(n)) if n == "last" => Some(false),
                Some(_) => return Err(path.key("nulls").error(codes::INVALID_VALUE, "expected \"first\" or \"last\"")),
            };
            Ok((dir(sort, &path.key("sort"))?, nulls))
        }
        _ => Err(path.error(codes::INVALID_VALUE, format!("expected \"asc\" or \"desc\", got {}", describe(v)))),
    }
}

fn parse_distinct(m: &Model, v: &Json, path: &Path) -> Result<Vec<FieldId>> {
    let names: Vec<(&str, Path)> = match v {
        Json::String(s) => vec![(s.as_str(), *path)],
        Json::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let s = item.as_str().ok_or_else(|| path.error(codes::INVALID_VALUE, "expected field names"))?;
                out.push((s, *path));
            }
            out
        }
        _ => return Err(path.error(codes::INVALID_VALUE, format!("expected a field name or a list of them, got {}", describe(v)))),
    };
    names
        .into_iter()
        .map(|(name, p)| {
            let fid = m.find_field(name).ok_or_else(|| unknown_field(m, name, &p))?;
            match m.field(fid).as_scalar() {
                Some(s) if !matches!(s.ty, ScalarType::Json | ScalarType::Unsupported(_)) => Ok(fid),
                _ => Err(p.error(codes::INVALID_VALUE, format!("distinct applies to scalar fields; {name} is not one"))),
            }
        })
        .collect()
}

fn count_select(m: &Model, v: &Json, path: &Path) -> Result<Vec<(String, Option<FieldId>)>> {
    let obj = expect_object(v, path, "an object such as { _all: true }")?;
    let mut out = Vec::new();
    for (key, val) in obj {
        let p = path.key(key);
        match val {
            Json::Bool(true) => {}
            Json::Bool(false) => continue,
            _ => return Err(p.error(codes::INVALID_VALUE, format!("expected a Boolean, got {}", describe(val)))),
        }
        if key == "_all" {
            out.push((key.clone(), None));
            continue;
        }
        let fid = m.find_field(key).ok_or_else(|| unknown_field(m, key, &p))?;
        if m.field(fid).as_scalar().is_none() {
            return Err(p.error(codes::INVALID_VALUE, format!("count applies to scalar fields; {key} is a relation")));
        }
        out.push((key.clone(), Some(fid)));
    }
    Ok(out)
}
