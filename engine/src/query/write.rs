//! Arguments of writes: `data` for create and update (scalars, atomic operations, scalar-list
//! push, nested relation writes on every relation kind), and the argument sets of create,
//! createMany(AndReturn), update, updateMany(AndReturn), upsert, delete and deleteMany.

use super::filter::{parse_unique_where, parse_where, unknown_field};
use super::path::Path;
use super::read::{check_keys, parse_selection_args};
use super::values::{describe, field_value, integer, list_value, scalar_value};
use super::{Action, Args, Cx, Filter, Selection, expect_object};
use crate::error::{Result, codes};
use crate::schema::{Arity, FieldId, FieldKind, ModelId, ModelTenancy, RelationLink, ScalarType};
use crate::value::{Value, as_tagged};
use serde_json::{Map, Value as Json};

/// `data` of a create: scalar values and nested writes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CreateInput {
    pub scalars: Vec<(FieldId, Value)>,
    pub relations: Vec<(FieldId, Vec<NestedOp>)>,
}

/// `data` of an update.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct UpdateInput {
    pub scalars: Vec<(FieldId, ScalarUpdate)>,
    pub relations: Vec<(FieldId, Vec<NestedOp>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScalarUpdate {
    Set(Value),
    Increment(Value),
    Decrement(Value),
    Multiply(Value),
    Divide(Value),
    /// Appends to a scalar list (a value or a list of values).
    Push(Value),
}

/// A nested write on a relation field.
#[derive(Clone, Debug, PartialEq)]
pub enum NestedOp {
    Create(CreateInput),
    CreateMany { rows: Vec<CreateInput>, skip_duplicates: bool },
    /// Link an existing row, found by a unique filter.
    Connect(Filter),
    ConnectOrCreate { filter: Filter, create: CreateInput },
    /// Unlink: the related row (to-one, `None`) or rows matching a unique filter (to-many).
    Disconnect(Option<Filter>),
    /// Replace the related rows with exactly these (to-many).
    Set(Vec<Filter>),
    Delete(Option<Filter>),
    Update { filter: Option<Filter>, data: UpdateInput },
    UpdateMany { filter: Filter, data: UpdateInput },
    DeleteMany(Filter),
    Upsert { filter: Option<Filter>, create: CreateInput, update: UpdateInput },
}

#[derive(Clone, Debug, PartialEq)]
pub struct WriteArgs {
    pub model: ModelId,
    pub op: WriteOp,
    /// The selection of the result (`None` for `{ count }` results).
    pub selection: Option<Selection>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    Create(CreateInput),
    CreateMany { rows: Vec<CreateInput>, skip_duplicates: bool },
    Update { filter: Filter, data: UpdateInput },
    UpdateMany { filter: Option<Filter>, data: UpdateInput, limit: Option<i64> },
    Upsert { filter: Filter, create: CreateInput, update: UpdateInput },
    Delete { filter: Filter },
    DeleteMany { filter: Option<Filter>, limit: Option<i64> },
}

pub fn parse_write(cx: &Cx, model: ModelId, action: Action, obj: &Map<String, Json>, path: &Path) -> Result<Args> {
    let sel_keys = ["select", "include", "omit"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { extra.iter().copied().chain(sel_keys).collect() };
    let data = |key: &str| obj.get(key).ok_or_else(|| path.key(key).error(codes::MISSING_ARGUMENT, format!("{} needs {key}", action.name())));
    let selection = |cx: &Cx| parse_selection_args(cx, model, obj, path, 1).map(Some);
    let op_args = match action {
        Action::Create => {
            check_keys(obj, path, &with(&["data"]))?;
            let input = create_input(cx, model, data("data")?, &path.key("data"), 1, None)?;
            WriteArgs { model, op: WriteOp::Create(input), selection: selection(cx)? }
        }
        Action::CreateMany | Action::CreateManyAndReturn => {
            let returning = action == Action::CreateManyAndReturn;
            check_keys(obj, path, &if returning { with(&["data", "skipDuplicates"]) } else { vec!["data", "skipDuplicates"] })?;
            let p = path.key("data");
            let items: Vec<(usize, &Json)> = match data("data")? {
                Json::Array(items) => items.iter().enumerate().collect(),
                single @ Json::Object(_) => vec![(0, single)],
                other => return Err(p.error(codes::INVALID_VALUE, format!("expected an object or a list of objects, got {}", describe(other)))),
            };
            let mut rows = Vec::with_capacity(items.len());
            for (i, item) in items {
                let ip = p.index(i);
                let row = create_input(cx, model, item, &ip, 1, None)?;
                if !row.relations.is_empty() {
                    return Err(ip.error(codes::INVALID_VALUE, "createMany takes scalar fields only; use create for nested writes"));
                }
                rows.push(row);
            }
            let skip_duplicates = bool_arg(obj, "skipDuplicates", path)?;
            WriteArgs { model, op: WriteOp::CreateMany { rows, skip_duplicates }, selection: if returning { selection(cx)? } else { None } }
        }
        Action::Update => {
            check_keys(obj, path, &with(&["where", "data"]))?;
            let filter = parse_unique_where(cx, model, data("where")?, &path.key("where"), 1)?;
            let input = update_input(cx, model, data("data")?, &path.key("data"), 1)?;
            WriteArgs { model, op: WriteOp::Update { filter, data: input }, selection: selection(cx)? }
        }
        Action::UpdateMany | Action::UpdateManyAndReturn => {
            let returning = action == Action::UpdateManyAndReturn;
            check_keys(obj, path, &if returning { with(&["where", "data", "limit"]) } else { vec!["where", "data", "limit"] })?;
            let filter = obj.get("where").filter(|w| !w.is_null()).map(|w| parse_where(cx, model, w, &path.key("where"), 1)).transpose()?;
            let dp = path.key("data");
            let input = update_input(cx, model, data("data")?, &dp, 1)?;
            if !input.relations.is_empty() {
                return Err(dp.error(codes::INVALID_VALUE, "updateMany takes scalar fields only; use update for nested writes"));
            }
            let limit = limit_arg(obj, path)?;
            WriteArgs { model, op: WriteOp::UpdateMany { filter, data: input, limit }, selection: if returning { selection(cx)? } else { None } }
        }
        Action::Upsert => {
            check_keys(obj, path, &with(&["where", "create", "update"]))?;
            let filter = parse_unique_where(cx, model, data("where")?, &path.key("where"), 1)?;
            let create = create_input(cx, model, data("create")?, &path.key("create"), 1, None)?;
            let update = update_input(cx, model, data("update")?, &path.key("update"), 1)?;
            WriteArgs { model, op: WriteOp::Upsert { filter, create, update }, selection: selection(cx)? }
        }
        Action::Delete => {
            check_keys(obj, path, &with(&["where"]))?;
            let filter = parse_unique_where(cx, model, data("where")?, &path.key("where"), 1)?;
            WriteArgs { model, op: WriteOp::Delete { filter }, selection: selection(cx)? }
        }
        Action::DeleteMany => {
            check_keys(obj, path, &["where", "limit"])?;
            let filter = obj.get("where").filter(|w| !w.is_null()).map(|w| parse_where(cx, model, w, &path.key("where"), 1)).transpose()?;
            WriteArgs { model, op: WriteOp::DeleteMany { filter, limit: limit_arg(obj, path)? }, selection: None }
        }
        _ => return Err(path.error(codes::INTERNAL, "not a write action")),
    };
    Ok(Args::Write(op_args))
}

fn bool_arg(obj: &Map<String, Json>, key: &str, path: &Path) -> Result<bool> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        Some(v) => Err(path.key(key).error(codes::INVALID_VALUE, format!("expected a Boolean, got {}", describe(v)))),
    }
}

fn limit_arg(obj: &Map<String, Json>, path: &Path) -> Result<Option<i64>> {
    match obj.get("limit").filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => {
            let p = path.key("limit");
            let n = integer(v, &p)?;
            if n < 0 {
                return Err(p.error(codes::OUT_OF_RANGE, "limit cannot be negative"));
            }
            Ok(Some(n))
        }
    }
}

/// `data` of a create on `model`. `linked` is the relation field through which a nested create
/// is reached; the foreign key it fills in is not required in `data`.
pub fn create_input(cx: &Cx, model: ModelId, v: &Json, path: &Path, depth: usize, linked: Option<FieldId>) -> Result<CreateInput> {
    cx.check_depth(depth, path)?;
    let m = cx.schema.model(model);
    let obj = expect_object(v, path, "a data object")?;
    let mut input = CreateInput::default();
    for (key, val) in obj {
        let p = path.key(key);
        let fid = m.find_field(key).filter(|f| !m.field(*f).ignored).ok_or_else(|| unknown_field(m, key, &p))?;
        let field = m.field(fid);
        match &field.kind {
            FieldKind::Scalar(s) => {
                if let ScalarType::Unsupported(_) = s.ty {
                    return Err(p.error(codes::UNSUPPORTED, format!("field {key} has an Unsupported type and cannot be written")));
                }
                let value = if field.arity == Arity::List {
                    list_set_value(cx, &s.ty, val, &p)?
                } else {
                    field_value(cx.schema, field, &s.ty, val, &p)?
                };
                input.scalars.push((fid, value));
            }
            FieldKind::Relation(_) => {
                let ops = nested_ops(cx, model, fid, val, &p, depth, true)?;
                input.relations.push((fid, ops));
            }
        }
    }
    check_create_complete(cx, model, &input, obj, path, linked)?;
    Ok(input)
}

/// A list field's value in a create: the list itself or `{ set: [...] }`.
fn list_set_value(cx: &Cx, ty: &ScalarType, v: &Json, path: &Path) -> Result<Value> {
    match v {
        Json::Object(o) if as_tagged(v).is_none() => {
            check_keys(o, path, &["set"])?;
            let set = o.get("set").ok_or_else(|| path.error(codes::MISSING_ARGUMENT, "expected { set: [...] }"))?;
            list_value(cx.schema, ty, set, &path.key("set"))
        }
        Json::Null => Ok(Value::Null),
        _ => list_value(cx.schema, ty, v, path),
    }
}

/// Every required field without a default must be given, directly or through the relation that
/// fills it in (`linked` is the relation back to the parent of a nested create). The tenant field
/// is exempt: the engine fills it in under a tenant.
fn check_create_complete(cx: &Cx, model: ModelId, input: &CreateInput, obj: &Map<String, Json>, path: &Path, linked: Option<FieldId>) -> Result<()> {
    let m = cx.schema.model(model);
    let mut covered: Vec<FieldId> = Vec::new();
    for (rid, f, r) in m.relation_fields() {
        let RelationLink::ForeignKey { fields, .. } = &r.link else { continue };
        let written = input.relations.iter().any(|(id, _)| *id == rid);
        if written {
            if let Some(fk) = fields.iter().find(|fk| input.scalars.iter().any(|(id, _)| id == *fk)) {
                return Err(path.key(&m.field(*fk).name).error(
                    codes::CONFLICTING_ARGUMENTS,
                    format!("{} is set both directly and through relation {}", m.field(*fk).name, f.name),
                ));
            }
        }
        if written || linked == Some(rid) {
            covered.extend(fields.iter().copied());
        }
    }
    let tenant_field = match cx.schema.tenancy.of(model) {
        ModelTenancy::Scoped { field, .. } => Some(*field),
        _ => None,
    };
    for (fid, f, s) in m.scalar_fields() {
        let required = f.arity == Arity::Required && s.default.is_none() && !s.updated_at;
        if !required || obj.contains_key(&f.name) || covered.contains(&fid) || tenant_field == Some(fid) {
            continue;
        }
        let relation = m
            .relation_fields()
            .find(|(_, _, r)| matches!(&r.link, RelationLink::ForeignKey { fields, .. } if fields.contains(&fid)));
        let message = match relation {
            Some((_, rf, _)) => format!("argument {} is missing (set {} or connect {})", rf.name, f.name, rf.name),
            None => format!("argument {} is missing", f.name),
        };
        return Err(path.error(codes::MISSING_ARGUMENT, message));
    }
    Ok(())
}

/// `data` of an update on `model`.
pub fn update_input(cx: &Cx, model: ModelId, v: &Json, path: &Path, depth: usize) -> Result<UpdateInput> {
    cx.check_depth(depth, path)?;
    let m = cx.schema.model(model);
    let obj = expect_object(v, path, "a data object")?;
    let mut input = UpdateInput::default();
    for (key, val) in obj {
        let p = path.key(key);
        let fid = m.find_field(key).filter(|f| !m.field(*f).ignored).ok_or_else(|| unknown_field(m, key, &p))?;
        let field = m.field(fid);
        match &field.kind {
            FieldKind::Scalar(s) => {
                if let ScalarType::Unsupported(_) = s.ty {
                    return Err(p.error(codes::UNSUPPORTED, format!("field {key} has an Unsupported type and cannot be written")));
                }
                input.scalars.push((fid, scalar_update(cx, field, &s.ty, val, &p)?));
            }
            FieldKind::Relation(_) => {
                let ops = nested_ops(cx, model, fid, val, &p, depth, false)?;
                input.relations.push((fid, ops));
            }
        }
    }
    Ok(input)
}

fn scalar_update(cx: &Cx, field: &crate::schema::Field, ty: &ScalarType, v: &Json, path: &Path) -> Result<ScalarUpdate> {
    let obj = match v {
        Json::Object(o) if as_tagged(v).is_none() && *ty != ScalarType::Json => o,
        _ if field.arity == Arity::List => return Ok(ScalarUpdate::Set(list_set_value(cx, ty, v, path)?)),
        _ => return Ok(ScalarUpdate::Set(field_value(cx.schema, field, ty, v, path)?)),
    };
    let numeric = matches!(ty, ScalarType::Int | ScalarType::BigInt | ScalarType::Float | ScalarType::Decimal);
    let mut allowed: Vec<&str> = vec!["set"];
    if numeric && field.arity != Arity::List {
        allowed.extend(["increment", "decrement", "multiply", "divide"]);
    }
    if field.arity == Arity::List {
        allowed.push("push");
    }
    if obj.len() != 1 {
        return Err(path.error(codes::INVALID_VALUE, format!("expected exactly one of: {}", allowed.join(", "))));
    }
    let Some((op, val)) = obj.iter().next() else { return Err(path.error(codes::INVALID_VALUE, "empty update")) };
    let p = path.key(op);
    if !allowed.contains(&op.as_str()) {
        return Err(p.unknown("operation", op, &format!(" for field {}", field.name), &allowed));
    }
    Ok(match op.as_str() {
        "set" if field.arity == Arity::List => ScalarUpdate::Set(list_set_value(cx, ty, val, &p)?),
        "set" => ScalarUpdate::Set(field_value(cx.schema, field, ty, val, &p)?),
        "push" => match val {
            Json::Array(_) => ScalarUpdate::Push(list_value(cx.schema, ty, val, &p)?),
            _ => ScalarUpdate::Push(Value::List(vec![scalar_value(cx.schema, ty, val, &p)?])),
        },
        other => {
            let value = scalar_value(cx.schema, ty, val, &p)?;
            match other {
                "increment" => ScalarUpdate::Increment(value),
                "decrement" => ScalarUpdate::Decrement(value),
                "multiply" => ScalarUpdate::Multiply(value),
                _ => ScalarUpdate::Divide(value),
            }
        }
    })
}

/// The nested writes on one relation field.
fn nested_ops(cx: &Cx, parent: ModelId, fid: FieldId, v: &Json, path: &Path, depth: usize, in_create: bool) -> Result<Vec<NestedOp>> {
    cx.check_depth(depth + 1, path)?;
    let field = cx.schema.model(parent).field(fid);
    let many = field.is_list();
    let Some(rf) = field.as_relation() else { return Err(path.error(codes::INTERNAL, "not a relation")) };
    let (related, back) = (rf.related, rf.back);
    let obj = expect_object(v, path, "an object of nested writes (create, connect, ...)")?;
    // As in Prisma's input types: a required link cannot be disconnected, and the row a required
    // foreign key points to cannot be deleted through it.
    let required_fk = |m: ModelId, fields: &[FieldId]| fields.iter().any(|f| cx.schema.model(m).field(*f).arity == Arity::Required);
    let (can_disconnect, can_delete) = match &rf.link {
        RelationLink::ForeignKey { fields, .. } => {
            let req = required_fk(parent, fields);
            (!req, !req)
        }
        RelationLink::BackReference { fields, .. } => (!required_fk(related, fields), true),
        RelationLink::JoinTable { .. } => (true, true),
    };
    let all: &[&str] = match (many, in_create) {
        (true, true) => &["create", "createMany", "connect", "connectOrCreate"],
        (false, true) => &["create", "connect", "connectOrCreate"],
        (true, false) => &["create", "createMany", "connect", "connectOrCreate", "set", "disconnect", "delete", "update", "updateMany", "deleteMany", "upsert"],
        (false, false) => &["create", "connect", "connectOrCreate", "disconnect", "delete", "update", "upsert"],
    };
    let allowed: Vec<&str> =
        all.iter().copied().filter(|op| (*op != "disconnect" || can_disconnect || many) && (*op != "delete" || can_delete || many)).collect();
    let allowed = allowed.as_slice();
    let d = depth + 1;
    let mut ops = Vec::new();
    for (key, val) in obj {
        let p = path.key(key);
        if !allowed.contains(&key.as_str()) {
            return Err(p.unknown("nested write", key, "", allowed));
        }
        let items = |v: &Json| -> Vec<(Option<usize>, Json)> {
            match v {
                Json::Array(items) if many => items.iter().cloned().enumerate().map(|(i, x)| (Some(i), x)).collect(),
                _ => vec![(None, v.clone())],
            }
        };
        let at = |i: Option<usize>| match i {
            Some(i) => p.index(i),
            None => p,
        };
        match key.as_str() {
            "create" => {
                for (i, item) in items(val) {
                    ops.push(NestedOp::Create(create_input(cx, related, &item, &at(i), d, back)?));
                }
            }
            "createMany" => {
                let o = expect_object(val, &p, "{ data: [...], skipDuplicates? }")?;
                check_keys(o, &p, &["data", "skipDuplicates"])?;
                let dp = p.key("data");
                let data = o.get("data").ok_or_else(|| dp.error(codes::MISSING_ARGUMENT, "createMany needs data"))?;
                let list: Vec<Json> = match data {
                    Json::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                let mut rows = Vec::with_capacity(list.len());
                for (i, item) in list.iter().enumerate() {
                    let row = create_input(cx, related, item, &dp.index(i), d, back)?;
                    if !row.relations.is_empty() {
                        return Err(dp.index(i).error(codes::INVALID_VALUE, "createMany takes scalar fields only"));
                    }
                    rows.push(row);
                }
                ops.push(NestedOp::CreateMany { rows, skip_duplicates: bool_arg(o, "skipDuplicates", &p)? });
            }
            "connect" => {
                for (i, item) in items(val) {
                    ops.push(NestedOp::Connect(parse_unique_where(cx, related, &item, &at(i), d)?));
                }
            }
            "connectOrCreate" => {
                for (i, item) in items(val) {
                    let ip = at(i);
                    let o = expect_object(&item, &ip, "{ where, create }")?;
                    check_keys(o, &ip, &["where", "create"])?;
                    let w = o.get("where").ok_or_else(|| ip.key("where").error(codes::MISSING_ARGUMENT, "connectOrCreate needs where"))?;
                    let c = o.get("create").ok_or_else(|| ip.key("create").error(codes::MISSING_ARGUMENT, "connectOrCreate needs create"))?;
                    ops.push(NestedOp::ConnectOrCreate {
                        filter: parse_unique_where(cx, related, w, &ip.key("where"), d)?,
                        create: create_input(cx, related, c, &ip.key("create"), d, back)?,
                    });
                }
            }
            "set" => {
                let list: Vec<Json> = match val {
                    Json::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                let filters = list
                    .iter()
                    .enumerate()
                    .map(|(i, item)| parse_unique_where(cx, related, item, &p.index(i), d))
                    .collect::<Result<Vec<_>>>()?;
                ops.push(NestedOp::Set(filters));
            }
            "disconnect" | "delete" => {
                let filters: Vec<Option<Filter>> = match val {
                    Json::Bool(true) if !many => vec![None],
                    Json::Bool(false) => vec![],
                    Json::Object(_) if !many => vec![Some(parse_where(cx, related, val, &p, d)?)],
                    _ if many => items(val)
                        .into_iter()
                        .map(|(i, item)| parse_unique_where(cx, related, &item, &at(i), d).map(Some))
                        .collect::<Result<Vec<_>>>()?,
                    _ => return Err(p.error(codes::INVALID_VALUE, format!("expected true or a where object, got {}", describe(val)))),
                };
                for f in filters {
                    ops.push(if key == "disconnect" { NestedOp::Disconnect(f) } else { NestedOp::Delete(f) });
                }
            }
            "update" => {
                for (i, item) in items(val) {
                    let ip = at(i);
                    let o = expect_object(&item, &ip, "{ where, data }")?;
                    let explicit = o.contains_key("data") && o.keys().all(|k| k == "data" || k == "where");
                    if many || explicit {
                        check_keys(o, &ip, &["where", "data"])?;
                        let filter = match o.get("where") {
                            Some(w) if many => Some(parse_unique_where(cx, related, w, &ip.key("where"), d)?),
                            Some(w) => Some(parse_where(cx, related, w, &ip.key("where"), d)?),
                            None if many => return Err(ip.key("where").error(codes::MISSING_ARGUMENT, "update on a list relation needs where")),
                            None => None,
                        };
                        let data = o.get("data").ok_or_else(|| ip.key("data").error(codes::MISSING_ARGUMENT, "update needs data"))?;
                        ops.push(NestedOp::Update { filter, data: update_input(cx, related, data, &ip.key("data"), d)? });
                    } else {
                        ops.push(NestedOp::Update { filter: None, data: update_input(cx, related, &item, &ip, d)? });
                    }
                }
            }
            "updateMany" => {
                for (i, item) in items(val) {
                    let ip = at(i);
                    let o = expect_object(&item, &ip, "{ where, data }")?;
                    check_keys(o, &ip, &["where", "data"])?;
                    let filter = match o.get("where") {
                        Some(w) => parse_where(cx, related, w, &ip.key("where"), d)?,
                        None => Filter::Const(true),
                    };
                    let data = o.get("data").ok_or_else(|| ip.key("data").error(codes::MISSING_ARGUMENT, "updateMany needs data"))?;
                    let data = update_input(cx, related, data, &ip.key("data"), d)?;
                    if !data.relations.is_empty() {
                        return Err(ip.key("data").error(codes::INVALID_VALUE, "updateMany takes scalar fields only"));
                    }
                    ops.push(NestedOp::UpdateMany { filter, data });
                }
            }
            "deleteMany" => {
                let list: Vec<(Option<usize>, Json)> = match val {
                    Json::Array(a) => a.iter().cloned().enumerate().map(|(i, x)| (Some(i), x)).collect(),
                    Json::Bool(true) => vec![(None, Json::Object(Map::new()))],
                    other => vec![(None, other.clone())],
                };
                for (i, item) in list {
                    ops.push(NestedOp::DeleteMany(parse_where(cx, related, &item, &at(i), d)?));
                }
            }
            "upsert" => {
                for (i, item) in items(val) {
                    let ip = at(i);
                    let o = expect_object(&item, &ip, "{ where, create, update }")?;
                    check_keys(o, &ip, &["where", "create", "update"])?;
                    let filter = match o.get("where") {
                        Some(w) if many => Some(parse_unique_where(cx, related, w, &ip.key("where"), d)?),
                        Some(w) => Some(parse_where(cx, related, w, &ip.key("where"), d)?),
                        None if many => return Err(ip.key("where").error(codes::MISSING_ARGUMENT, "upsert on a list relation needs where")),
                        None => None,
                    };
                    let c = o.get("create").ok_or_else(|| ip.key("create").error(codes::MISSING_ARGUMENT, "upsert needs create"))?;
                    let u = o.get("update").ok_or_else(|| ip.key("update").error(codes::MISSING_ARGUMENT, "upsert needs update"))?;
                    ops.push(NestedOp::Upsert {
                        filter,
                        create: create_input(cx, related, c, &ip.key("create"), d, back)?,
                        update: update_input(cx, related, u, &ip.key("update"), d)?,
                    });
                }
            }
            _ => return Err(p.unknown("nested write", key, "", allowed)),
        }
    }
    Ok(ops)
}

