//! Arguments of `aggregate` and `groupBy`: the aggregate selections (`_count`, `_sum`, `_avg`,
//! `_min`, `_max`), `by`, `having` (aggregate filters and filters on grouped fields) and ordering
//! by fields or aggregates.

use super::filter::{parse_where, unknown_field};
use super::path::Path;
use super::read::{check_keys, parse_read_window, sort_order};
use super::values::{describe, integer};
use super::{Args, Cx, Filter, ReadArgs, ScalarCond, expect_object};
use crate::error::{Result, codes};
use crate::schema::{FieldId, Model, ModelId, ScalarType};
use serde_json::{Map, Value as Json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggOp {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggOp {
    pub const ALL: [(&'static str, AggOp); 5] =
        [("_count", AggOp::Count), ("_sum", AggOp::Sum), ("_avg", AggOp::Avg), ("_min", AggOp::Min), ("_max", AggOp::Max)];

    pub fn key(self) -> &'static str {
        Self::ALL.iter().find(|(_, o)| *o == self).map_or("", |(k, _)| k)
    }

    fn parse(s: &str) -> Option<AggOp> {
        Self::ALL.iter().find(|(k, _)| *k == s).map(|(_, o)| *o)
    }
}

/// One aggregate: `_count._all` has no field.
#[derive(Clone, Debug, PartialEq)]
pub struct AggSel {
    pub op: AggOp,
    pub field: Option<FieldId>,
    /// `_count: true`: the count is returned as a number rather than `{ _all: n }`.
    pub bare: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AggregateArgs {
    /// The rows aggregated: filter, order, cursor, skip, take.
    pub read: ReadArgs,
    pub aggs: Vec<AggSel>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupByArgs {
    pub model: ModelId,
    pub by: Vec<FieldId>,
    pub filter: Option<Filter>,
    pub having: Option<Having>,
    pub order_by: Vec<GroupOrder>,
    pub take: Option<i64>,
    pub skip: Option<i64>,
    pub aggs: Vec<AggSel>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Having {
    And(Vec<Having>),
    Or(Vec<Having>),
    Not(Box<Having>),
    /// A condition on a grouped field (or on an aggregate of any field).
    Cond { agg: Option<AggSel>, field: FieldId, cond: ScalarCond },
    CountAll(ScalarCond),
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupOrder {
    /// `None` orders by the grouped field itself.
    pub agg: Option<AggOp>,
    pub field: Option<FieldId>,
    pub desc: bool,
    pub nulls_first: Option<bool>,
}

const AGG_KEYS: [&str; 5] = ["_count", "_sum", "_avg", "_min", "_max"];

pub fn parse_aggregate(cx: &Cx, model: ModelId, obj: &Map<String, Json>, path: &Path) -> Result<Args> {
    let allowed: Vec<&str> = ["where", "orderBy", "cursor", "take", "skip", "distinct"].into_iter().chain(AGG_KEYS).collect();
    check_keys(obj, path, &allowed)?;
    let mut window = obj.clone();
    for k in AGG_KEYS {
        window.remove(k);
    }
    let read = parse_read_window(cx, model, &window, path)?;
    let aggs = parse_aggs(cx.schema.model(model), obj, path)?;
    Ok(Args::Aggregate(AggregateArgs { read, aggs }))
}

pub fn parse_group_by(cx: &Cx, model: ModelId, obj: &Map<String, Json>, path: &Path) -> Result<Args> {
    let allowed: Vec<&str> = ["by", "where", "having", "orderBy", "take", "skip"].into_iter().chain(AGG_KEYS).collect();
    check_keys(obj, path, &allowed)?;
    let m = cx.schema.model(model);
    let bp = path.key("by");
    let by_json = obj.get("by").ok_or_else(|| bp.error(codes::MISSING_ARGUMENT, "groupBy needs by"))?;
    let names: Vec<&str> = match by_json {
        Json::String(s) => vec![s.as_str()],
        Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
        other => return Err(bp.error(codes::INVALID_VALUE, format!("expected a field name or a list, got {}", describe(other)))),
    };
    if names.is_empty() {
        return Err(bp.error(codes::INVALID_VALUE, "by needs at least one field"));
    }
    let by = names.iter().map(|n| scalar_field(m, n, &bp)).collect::<Result<Vec<_>>>()?;
    let filter = obj.get("where").map(|w| parse_where(cx, model, w, &path.key("where"), 1)).transpose()?;
    let having = obj.get("having").map(|h| parse_having(cx, m, h, &path.key("having"), 1)).transpose()?;
    let mut order_by = Vec::new();
    if let Some(o) = obj.get("orderBy") {
        let op = path.key("orderBy");
        let items: Vec<(Option<usize>, &Json)> = match o {
            Json::Array(a) => a.iter().enumerate().map(|(i, x)| (Some(i), x)).collect(),
            other => vec![(None, other)],
        };
        for (i, item) in items {
            let ip = match i {
                Some(i) => op.index(i),
                None => op,
            };
            group_order(m, &by, item, &ip, &mut order_by)?;
        }
    }
    let take = obj.get("take").filter(|t| !t.is_null()).map(|t| integer(t, &path.key("take"))).transpose()?;
    let skip = obj.get("skip").filter(|t| !t.is_null()).map(|t| integer(t, &path.key("skip"))).transpose()?;
    if skip.is_some_and(|s| s < 0) {
        return Err(path.key("skip").error(codes::OUT_OF_RANGE, "skip cannot be negative"));
    }
    if (take.is_some() || skip.is_some()) && order_by.is_empty() {
        return Err(path.key("orderBy").error(codes::MISSING_ARGUMENT, "groupBy with take or skip needs orderBy"));
    }
    let aggs = parse_aggs(m, obj, path)?;
    Ok(Args::GroupBy(GroupByArgs { model, by, filter, having, order_by, take, skip, aggs }))
}

fn scalar_field(m: &Model, name: &str, path: &Path) -> Result<FieldId> {
    let fid = m.find_field(name).filter(|f| !m.field(*f).ignored).ok_or_else(|| unknown_field(m, name, path))?;
    match m.field(fid).as_scalar() {
        Some(s) if !matches!(s.ty, ScalarType::Unsupported(_)) => Ok(fid),
        _ => Err(path.error(codes::INVALID_VALUE, format!("{name} is not a scalar field"))),
    }
}

fn numeric(m: &Model, fid: FieldId) -> bool {
    m.field(fid).as_scalar().is_some_and(|s| matches!(s.ty, ScalarType::Int | ScalarType::BigInt | ScalarType::Float | ScalarType::Decimal))
        && !m.field(fid).is_list()
}

/// `_count: true | { _all, field }`, `_sum: { field }`, ... in the order given.
fn parse_aggs(m: &Model, obj: &Map<String, Json>, path: &Path) -> Result<Vec<AggSel>> {
    let mut out = Vec::new();
    for (key, val) in obj {
        let Some(op) = AggOp::parse(key) else { continue };
        let p = path.key(key);
        if op == AggOp::Count && *val == Json::Bool(true) {
            out.push(AggSel { op, field: None, bare: true });
            continue;
        }
        for (name, v) in expect_object(val, &p, "an object of fields")? {
            let fp = p.key(name);
            match v {
                Json::Bool(true) => {}
                Json::Bool(false) => continue,
                _ => return Err(fp.error(codes::INVALID_VALUE, format!("expected a Boolean, got {}", describe(v)))),
            }
            if op == AggOp::Count && name == "_all" {
                out.push(AggSel { op, field: None, bare: false });
                continue;
            }
            let fid = scalar_field(m, name, &fp)?;
            if matches!(op, AggOp::Sum | AggOp::Avg) && !numeric(m, fid) {
                return Err(fp.error(codes::INVALID_VALUE, format!("{key} applies to number fields; {name} is not one")));
            }
            if matches!(op, AggOp::Min | AggOp::Max)
                && m.field(fid).as_scalar().is_some_and(|s| matches!(s.ty, ScalarType::Json | ScalarType::Bytes))
            {
                return Err(fp.error(codes::INVALID_VALUE, format!("{key} does not apply to {name}")));
            }
            out.push(AggSel { op, field: Some(fid), bare: false });
        }
    }
    Ok(out)
}

fn group_order(m: &Model, by: &[FieldId], v: &Json, path: &Path, out: &mut Vec<GroupOrder>) -> Result<()> {
    let obj = expect_object(v, path, "an orderBy object")?;
    for (key, val) in obj {
        let p = path.key(key);
        if let Some(op) = AggOp::parse(key) {
            for (name, dir) in expect_object(val, &p, "an object of fields")? {
                let fp = p.key(name);
                let (desc, nulls_first) = sort_order(dir, &fp)?;
                let field = if op == AggOp::Count && name == "_all" { None } else { Some(scalar_field(m, name, &fp)?) };
                out.push(GroupOrder { agg: Some(op), field, desc, nulls_first });
            }
            continue;
        }
        let fid = scalar_field(m, key, &p)?;
        if !by.contains(&fid) {
            return Err(p.error(codes::INVALID_VALUE, format!("every field in orderBy must be in by; {key} is not")));
        }
        let (desc, nulls_first) = sort_order(val, &p)?;
        out.push(GroupOrder { agg: None, field: Some(fid), desc, nulls_first });
    }
    Ok(())
}

/// `having`: like `where`, but field conditions may name aggregates
/// (`{ views: { _avg: { gt: 10 } } }`) and plain conditions must be on grouped fields.
fn parse_having(cx: &Cx, m: &Model, v: &Json, path: &Path, depth: usize) -> Result<Having> {
    cx.check_depth(depth, path)?;
    let obj = expect_object(v, path, "a having object")?;
    let mut parts = Vec::new();
    for (key, val) in obj {
        let p = path.key(key);
        let list = |val: &Json| -> Result<Vec<Having>> {
            match val {
                Json::Array(items) => {
                    cx.check_list(items.len(), &p)?;
                    items.iter().enumerate().map(|(i, x)| parse_having(cx, m, x, &p.index(i), depth + 1)).collect()
                }
                other => Ok(vec![parse_having(cx, m, other, &p, depth + 1)?]),
            }
        };
        match key.as_str() {
            "AND" => parts.push(Having::And(list(val)?)),
            "OR" => parts.push(Having::Or(list(val)?)),
            "NOT" => parts.push(Having::And(list(val)?.into_iter().map(|h| Having::Not(Box::new(h))).collect())),
            "_count" | "_sum" | "_avg" | "_min" | "_max" => {
                // `_count: { _all: { gt: 1 } }` and the like.
                let op = AggOp::parse(key).unwrap_or(AggOp::Count);
                for (name, cond) in expect_object(val, &p, "an object of fields")? {
                    let fp = p.key(name);
                    if op == AggOp::Count && name == "_all" {
                        parts.extend(number_conds(cx, &ScalarType::Int, cond, &fp)?.into_iter().map(Having::CountAll));
                        continue;
                    }
                    let fid = scalar_field(m, name, &fp)?;
                    let ty = agg_input_type(m, op, fid);
                    for c in number_conds(cx, &ty, cond, &fp)? {
                        parts.push(Having::Cond { agg: Some(AggSel { op, field: Some(fid), bare: false }), field: fid, cond: c });
                    }
                }
            }
            _ => {
                let fid = scalar_field(m, key, &p)?;
                // A plain value (`having: { published: true }`) is `equals`, as in `where`.
                let ops = match val {
                    Json::Object(ops) if crate::value::as_tagged(val).is_none() => Some(ops),
                    _ => None,
                };
                let aggregated = ops.is_some_and(|ops| ops.keys().any(|k| AggOp::parse(k).is_some()));
                if let (true, Some(ops)) = (aggregated, ops) {
                    for (agg_key, cond) in ops {
                        let ap = p.key(agg_key);
                        let op = AggOp::parse(agg_key).ok_or_else(|| ap.unknown("aggregate", agg_key, "", &AGG_KEYS))?;
                        let ty = agg_input_type(m, op, fid);
                        for c in number_conds(cx, &ty, cond, &ap)? {
                            parts.push(Having::Cond { agg: Some(AggSel { op, field: Some(fid), bare: false }), field: fid, cond: c });
                        }
                    }
                } else {
                    let ty = m.field(fid).as_scalar().map_or(ScalarType::String, |s| s.ty.clone());
                    for c in number_conds(cx, &ty, val, &p)? {
                        parts.push(Having::Cond { agg: None, field: fid, cond: c });
                    }
                }
            }
        }
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { Having::And(parts) })
}

/// The type an aggregate's comparison values take.
fn agg_input_type(m: &Model, op: AggOp, fid: FieldId) -> ScalarType {
    let ty = m.field(fid).as_scalar().map_or(ScalarType::Int, |s| s.ty.clone());
    match op {
        AggOp::Count => ScalarType::Int,
        AggOp::Avg if ty != ScalarType::Decimal => ScalarType::Float,
        _ => ty,
    }
}

/// Scalar conditions on a value of type `ty`, reusing the `where` operator grammar.
fn number_conds(cx: &Cx, ty: &ScalarType, v: &Json, path: &Path) -> Result<Vec<ScalarCond>> {
    super::filter::conditions_for_type(cx, ty, v, path)
}
