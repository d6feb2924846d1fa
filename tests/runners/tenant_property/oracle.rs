//! The oracle. What a request run under tenant A returns is checked three ways:
//!
//! - every row in it, at every depth, is A's or shared (its tenant field, or the tenant model's
//!   key), and no text only B has appears anywhere in it or in an error;
//! - a read gives exactly what the same read gives unscoped with the tenant filter written by
//!   hand: ANDed into the top-level `where` and into every relation filter, nested `include` /
//!   `select` list and `_count` at every depth (so counts and aggregates are compared too);
//! - after a write, B's rows and the shared rows are byte-identical to the seed, no link crosses
//!   tenants, and `updateMany` / `deleteMany` report the count of A's rows the hand-written filter
//!   finds.

use super::world::{A, B_MARKERS, Kind, Owner, World};
use serde_json::{Map, Value as Json, json};

/// `AND` of the visibility filter of `model` and `w` (either may be absent).
pub fn and_visible(world: &World, model: &str, w: Option<Json>) -> Option<Json> {
    match (world.visible(model), w) {
        (None, w) => w,
        (Some(v), None) => Some(v),
        (Some(v), Some(w)) => Some(json!({"AND": [v, w]})),
    }
}

/// A filter of what A may write of `model` (shared rows excluded).
pub fn writable(world: &World, model: &str) -> Option<Json> {
    let field = world.schema.tenancy.field_name.clone();
    match world.kind(model) {
        Kind::Unscoped => None,
        Kind::Tenant => Some(json!({ world.identifier(model)[0].clone(): A })),
        Kind::Scoped { .. } => Some(json!({ field: A })),
    }
}

/// `w` with the tenant filter written into every relation filter, at every depth.
pub fn hand_where(world: &World, model: &str, w: &Json) -> Json {
    let Some(obj) = w.as_object() else { return w.clone() };
    let mut out = Map::new();
    for (k, v) in obj {
        let nv = match k.as_str() {
            "AND" | "OR" | "NOT" => match v {
                Json::Array(items) => Json::Array(items.iter().map(|i| hand_where(world, model, i)).collect()),
                other => hand_where(world, model, other),
            },
            _ => match world.relation(model, k) {
                None => v.clone(),
                Some(r) => hand_relation_filter(world, &r.related, r.list, v),
            },
        };
        out.insert(k.clone(), nv);
    }
    Json::Object(out)
}

fn hand_relation_filter(world: &World, related: &str, list: bool, v: &Json) -> Json {
    let vis = world.visible(related);
    let scoped = |w: &Json| -> Json {
        let inner = hand_where(world, related, w);
        match &vis {
            Some(vis) => json!({"AND": [vis, inner]}),
            None => inner,
        }
    };
    if list {
        let Some(obj) = v.as_object() else { return v.clone() };
        let mut out = Map::new();
        for (op, w) in obj {
            let nw = match (op.as_str(), &vis) {
                ("every", Some(vis)) => json!({"OR": [{"NOT": vis}, hand_where(world, related, w)]}),
                _ => scoped(w),
            };
            out.insert(op.clone(), nw);
        }
        return Json::Object(out);
    }
    // To-one. `null` / `is: null` mean "no related row A can see".
    let none_visible = || match &vis {
        Some(vis) => json!({"isNot": vis}),
        None => json!({"is": null}),
    };
    let some_visible = || match &vis {
        Some(vis) => json!({"is": vis}),
        None => json!({"isNot": null}),
    };
    match v {
        Json::Null => none_visible(),
        Json::Object(obj) if !obj.is_empty() && obj.keys().all(|k| k == "is" || k == "isNot") => {
            let mut parts = Vec::new();
            for (op, w) in obj {
                let part = match (op.as_str(), w) {
                    ("is", Json::Null) => none_visible(),
                    ("isNot", Json::Null) => some_visible(),
                    ("is", w) => json!({"is": scoped(w)}),
                    (_, w) => json!({"isNot": scoped(w)}),
                };
                parts.push(part);
            }
            // Several conditions on one relation field: one object per condition, ANDed by the
            // caller's object. Merge them with AND on the relation key through `is`.
            if parts.len() == 1 {
                parts.remove(0)
            } else {
                // `{ is: X, isNot: Y }` keeps both keys in one object.
                let mut m = Map::new();
                for p in parts {
                    if let Json::Object(o) = p {
                        for (k, x) in o {
                            match m.get_mut(&k) {
                                Some(prev) => {
                                    let p = prev.take();
                                    *prev = json!({"AND": [p, x]});
                                }
                                None => {
                                    m.insert(k, x);
                                }
                            }
                        }
                    }
                }
                Json::Object(m)
            }
        }
        w => json!({"is": scoped(w)}),
    }
}

/// A read's arguments rewritten to run unscoped with the tenant filter written by hand. Returns
/// `None` when the result could legitimately differ (an order by a relation count seen from rows
/// that other tenants link to).
pub fn hand_read_args(world: &World, model: &str, args: &Json) -> Option<Json> {
    let obj = args.as_object()?;
    let mut out = Map::new();
    for (k, v) in obj {
        let nv = match k.as_str() {
            "where" => hand_where(world, model, v),
            "cursor" => hand_cursor(world, model, v),
            "orderBy" => {
                if order_depends_on_scope(world, model, v) {
                    return None;
                }
                v.clone()
            }
            "select" | "include" => hand_selection(world, model, v)?,
            _ => v.clone(),
        };
        out.insert(k.clone(), nv);
    }
    Some(Json::Object(out))
}

/// A cursor on a row A cannot see behaves like a cursor on no row.
fn hand_cursor(world: &World, model: &str, cursor: &Json) -> Json {
    match world.owner_of_where(model, cursor) {
        Some(Owner::B) => {
            let Some(obj) = cursor.as_object() else { return cursor.clone() };
            let mut out = Map::new();
            for (k, v) in obj {
                let missing = if v.is_number() { json!(-424_242) } else { json!("no-such-row") };
                out.insert(k.clone(), missing);
            }
            Json::Object(out)
        }
        _ => cursor.clone(),
    }
}

fn order_depends_on_scope(world: &World, model: &str, order: &Json) -> bool {
    match order {
        Json::Array(items) => items.iter().any(|i| order_depends_on_scope(world, model, i)),
        Json::Object(obj) => obj.iter().any(|(k, v)| match world.relation(model, k) {
            Some(r) if r.list => world.crosses_tenants(model),
            Some(r) => order_depends_on_scope(world, &r.related, v),
            None => false,
        }),
        _ => false,
    }
}

fn hand_selection(world: &World, model: &str, sel: &Json) -> Option<Json> {
    let obj = sel.as_object()?;
    let mut out = Map::new();
    for (k, v) in obj {
        if k == "_count" {
            out.insert(k.clone(), hand_count_selection(world, model, v));
            continue;
        }
        let Some(r) = world.relation(model, k) else {
            out.insert(k.clone(), v.clone());
            continue;
        };
        let nv = if r.list {
            let mut nested = match v {
                Json::Object(o) => hand_read_args(world, &r.related, &Json::Object(o.clone()))?.as_object().cloned().unwrap_or_default(),
                Json::Bool(false) => {
                    out.insert(k.clone(), v.clone());
                    continue;
                }
                _ => Map::new(),
            };
            let w = nested.remove("where");
            if let Some(w) = and_visible(world, &r.related, w) {
                nested.insert("where".into(), w);
            }
            Json::Object(nested)
        } else {
            match v {
                Json::Object(o) => hand_read_args(world, &r.related, &Json::Object(o.clone()))?,
                other => other.clone(),
            }
        };
        out.insert(k.clone(), nv);
    }
    Some(Json::Object(out))
}

fn hand_count_selection(world: &World, model: &str, v: &Json) -> Json {
    let lists: Vec<String> = world.relations(model).into_iter().filter(|r| r.list).map(|r| r.name).collect();
    let selected: Vec<(String, Option<Json>)> = match v.get("select").and_then(Json::as_object) {
        Some(sel) => sel
            .iter()
            .filter(|(_, x)| **x != json!(false))
            .map(|(k, x)| (k.clone(), x.get("where").cloned()))
            .collect(),
        None if *v == json!(false) => return v.clone(),
        None => lists.into_iter().map(|k| (k, None)).collect(),
    };
    let mut sel = Map::new();
    for (k, w) in selected {
        let related = world.relation(model, &k).map(|r| r.related).unwrap_or_default();
        let w = w.map(|w| hand_where(world, &related, &w));
        match and_visible(world, &related, w) {
            Some(w) => sel.insert(k, json!({"where": w})),
            None => sel.insert(k, json!(true)),
        };
    }
    json!({"select": sel})
}

/// The unscoped request whose result a scoped read must equal, if there is one.
pub fn hand_request(world: &World, request: &Json) -> Option<Json> {
    let model = request["model"].as_str()?;
    let action = request["action"].as_str()?;
    let args = request.get("args").cloned().unwrap_or_else(|| json!({}));
    let mut hand = hand_read_args(world, model, &args)?;
    let obj = hand.as_object_mut()?;
    let unique = matches!(action, "findUnique" | "findUniqueOrThrow");
    let w = obj.remove("where").map(|w| if unique { flatten_unique(world, model, &w) } else { w });
    if let Some(w) = and_visible(world, model, w) {
        obj.insert("where".into(), w);
    }
    let action = match action {
        // A unique lookup plus the tenant filter is no longer a unique where.
        "findUnique" => "findFirst",
        "findUniqueOrThrow" => "findFirstOrThrow",
        a => a,
    };
    Some(json!({"model": model, "action": action, "args": hand}))
}

/// A unique `where` as a plain filter: compound keys (`tenantId_email: {..}`) become their fields.
fn flatten_unique(world: &World, model: &str, w: &Json) -> Json {
    let Some(obj) = w.as_object() else { return w.clone() };
    let mut parts = Vec::new();
    let mut rest = Map::new();
    for (k, v) in obj {
        match v {
            Json::Object(inner) if world.scalar(model, k).is_none() && world.relation(model, k).is_none() && !matches!(k.as_str(), "AND" | "OR" | "NOT") => {
                parts.push(Json::Object(inner.clone()));
            }
            _ => {
                rest.insert(k.clone(), v.clone());
            }
        }
    }
    if parts.is_empty() {
        return Json::Object(rest);
    }
    parts.push(Json::Object(rest));
    json!({"AND": parts})
}

/// Whether a read's top-level rows come back in an order fixed by the request.
pub fn ordered(request: &Json) -> bool {
    let args = &request["args"];
    match request["action"].as_str() {
        Some("findMany") => ["take", "skip", "cursor", "distinct"].iter().any(|k| args.get(*k).is_some()),
        Some("groupBy") => args.get("take").is_some() || args.get("skip").is_some(),
        _ => true,
    }
}

/// A unique `where` that names one of B's rows, with the key values replaced by values no row has:
/// rule 7 says the two must be answered alike.
pub fn blind_where(world: &World, model: &str, w: &Json) -> Option<Json> {
    if world.owner_of_where(model, w) != Some(Owner::B) {
        return None;
    }
    let missing = |v: &Json| if v.is_number() { json!(987_654) } else { json!("no-such-key") };
    let keys: Vec<Vec<String>> = world.unique_keys(model).into_iter().map(|(_, f)| f).collect();
    let mut out = Map::new();
    for (k, v) in w.as_object()? {
        let nv = match v {
            Json::Object(inner) if world.scalar(model, k).is_none() && world.relation(model, k).is_none() => {
                Json::Object(inner.iter().map(|(f, x)| (f.clone(), missing(x))).collect())
            }
            x if keys.iter().any(|fields| fields.len() == 1 && &fields[0] == k) => missing(x),
            x => x.clone(),
        };
        out.insert(k.clone(), nv);
    }
    Some(Json::Object(out))
}

// ---------------------------------------------------------------------- result checks

/// Every row of `value` (rows of `model`, nested relations followed) that is not A's or shared.
pub fn foreign_rows(world: &World, model: &str, value: &Json, path: &str, out: &mut Vec<String>) {
    match value {
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                foreign_rows(world, model, item, &format!("{path}[{i}]"), out);
            }
        }
        Json::Object(obj) => {
            let tenant_field = &world.schema.tenancy.field_name;
            match world.kind(model) {
                Kind::Scoped { shared } => {
                    if let Some(t) = obj.get(tenant_field) {
                        let ok = t == &json!(A) || (shared && t.is_null());
                        if !ok {
                            out.push(format!("{path}: a {model} row of tenant {t}"));
                        }
                    }
                }
                Kind::Tenant => {
                    let key = &world.identifier(model)[0];
                    if let Some(t) = obj.get(key) {
                        if t != &json!(A) {
                            out.push(format!("{path}: tenant row {t}"));
                        }
                    }
                }
                Kind::Unscoped => {}
            }
            for (k, v) in obj {
                if let Some(r) = world.relation(model, k) {
                    foreign_rows(world, &r.related, v, &format!("{path}.{k}"), out);
                }
            }
        }
        _ => {}
    }
}

/// Tenant values in an aggregate or groupBy result (a grouped tenant field, `_min` / `_max` of
/// it) that are not A's.
pub fn foreign_in_aggregate(world: &World, model: &str, value: &Json, path: &str, out: &mut Vec<String>) {
    let field = &world.schema.tenancy.field_name;
    let key = match world.kind(model) {
        Kind::Scoped { .. } => field.clone(),
        Kind::Tenant => world.identifier(model)[0].clone(),
        Kind::Unscoped => return,
    };
    let shared = matches!(world.kind(model), Kind::Scoped { shared: true });
    let check = |v: &Json, at: String, out: &mut Vec<String>| {
        if !(v == &json!(A) || (shared && v.is_null())) {
            out.push(format!("{at}: {v}"));
        }
    };
    match value {
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                foreign_in_aggregate(world, model, item, &format!("{path}[{i}]"), out);
            }
        }
        Json::Object(obj) => {
            if let Some(v) = obj.get(&key) {
                check(v, format!("{path}.{key}"), out);
            }
            // (An aggregate over no rows is null.)
            for agg in ["_min", "_max"] {
                if let Some(v) = obj.get(agg).and_then(|a| a.get(&key)).filter(|v| !v.is_null()) {
                    check(v, format!("{path}.{agg}.{key}"), out);
                }
            }
        }
        _ => {}
    }
}

/// Text only B has, anywhere in `value`.
pub fn markers(value: &Json, path: &str, out: &mut Vec<String>) {
    match value {
        Json::String(s) => {
            let l = s.to_lowercase();
            if let Some(m) = B_MARKERS.iter().find(|m| l.contains(*m)) {
                out.push(format!("{path}: {s:?} (contains {m:?})"));
            }
        }
        Json::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                markers(x, &format!("{path}[{i}]"), out);
            }
        }
        Json::Object(obj) => {
            for (k, x) in obj {
                markers(x, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// JSON equality for results: object keys in any order, numbers by value (with a relative
/// tolerance for floats, which aggregates may sum in a different order), and top-level rows in
/// any order when `ordered` is false.
pub fn same_result(a: &Json, b: &Json, ordered: bool) -> bool {
    if !ordered {
        if let (Json::Array(x), Json::Array(y)) = (a, b) {
            if x.len() != y.len() {
                return false;
            }
            let mut used = vec![false; y.len()];
            return x.iter().all(|item| {
                let found = y.iter().enumerate().find(|(j, other)| !used[*j] && same_result(item, other, true)).map(|(j, _)| j);
                match found {
                    Some(j) => {
                        used[j] = true;
                        true
                    }
                    None => false,
                }
            });
        }
    }
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_result(a, b, true)),
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_result(v, w, true)))
        }
        _ => a == b,
    }
}
