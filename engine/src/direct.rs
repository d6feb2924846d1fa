//! Reads a host may run and shape itself: a request whose plan is one read statement, with
//! parameters known up front and a result whose every field the host can convert from what the
//! driver returns (PostgreSQL's text output at the top level, the JSON the database built for
//! relations), needs the engine only to compile it. For such a plan [`describe`] gives the
//! statement and a description of the result: per field its name and what it needs (a number
//! parsed, a date-time reformatted, an enum value renamed, a nested row taken apart), or for
//! `aggregate` and `groupBy` per column the key it goes under, so the rows never cross into the
//! engine and the result never crosses out of it. Anything else
//! (several statements, checks, values read by an earlier statement, RLS mode, and the types
//! whose conversion needs the engine: BigInt, Decimal, Bytes, Json, scalar lists) gets `None`
//! and runs the usual way. The WebAssembly host's TypeScript side (`npm/src/direct.ts`) follows
//! the description; `exec::decode` is the reference it must agree with.

use crate::plan::aggregate::AggColumn;
use crate::plan::shape::{OutKind, RowShape};
use crate::plan::{Check, OutputKind, Plan, Step};
use crate::schema::{ScalarType, Schema};
use crate::sql::Param;
use crate::value::Value;
use serde_json::Value as Json;

/// The statement of a one-read plan, its parameters' values and the result's description as
/// JSON text: `{ "kind": "many" | "one", "reverse": bool, "fields": [[name, kind], ...] }`, or
/// for aggregates `{ "kind": "groups" | "aggregate", "columns": [[key, name, kind], ...] }`
/// (`key` `null` for a grouped field, `name` empty for a bare `_count`; see `exec::aggregate_row`).
pub struct Direct {
    pub text: String,
    pub params: Vec<Value>,
    pub result: String,
}

/// The one statement of `plan` (its text given by `text`) with `params` bound, if the plan is a
/// read the host can shape itself.
pub fn describe(schema: &Schema, plan: &Plan, text: &str, params: &[Param]) -> Option<Direct> {
    let [Step::Query { bind: Some(var), check: Check::None, .. }] = plan.steps.as_slice() else { return None };
    if *var != plan.output.var {
        return None;
    }
    let values = values(params)?;
    let mut out = String::new();
    match &plan.output.kind {
        OutputKind::Many { shape, reverse } => rows(schema, "many", shape, *reverse, &mut out)?,
        OutputKind::One { shape, or_throw: false } => rows(schema, "one", shape, false, &mut out)?,
        OutputKind::Groups { columns } => aggregates(schema, "groups", columns, &mut out)?,
        OutputKind::Aggregate { columns } => aggregates(schema, "aggregate", columns, &mut out)?,
        _ => return None,
    }
    Some(Direct { text: text.to_owned(), params: values, result: out })
}

/// The parameters' values, if every one is known up front.
pub fn values(params: &[Param]) -> Option<Vec<Value>> {
    params.iter().map(|p| if let Param::Value(v) = p { Some(v.clone()) } else { None }).collect()
}

fn rows(schema: &Schema, what: &str, shape: &RowShape, reverse: bool, out: &mut String) -> Option<()> {
    out.push_str(&format!("{{\"kind\":\"{what}\",\"reverse\":{reverse},\"fields\":"));
    fields(schema, shape, out)?;
    out.push('}');
    Some(())
}

fn aggregates(schema: &Schema, what: &str, columns: &[AggColumn], out: &mut String) -> Option<()> {
    out.push_str(&format!("{{\"kind\":\"{what}\",\"columns\":["));
    for (i, c) in columns.iter().enumerate() {
        out.push_str(if i == 0 { "[" } else { ",[" });
        match c.key {
            Some(key) => string(key, out),
            None => out.push_str("null"),
        }
        out.push(',');
        string(&c.name, out);
        out.push(',');
        kind(schema, &OutKind::Scalar { ty: c.ty.clone(), list: false }, out)?;
        out.push(']');
    }
    out.push_str("]}");
    Some(())
}

/// A JSON string.
fn string(s: &str, out: &mut String) {
    out.push_str(&Json::String(s.to_owned()).to_string());
}

fn fields(schema: &Schema, shape: &RowShape, out: &mut String) -> Option<()> {
    out.push('[');
    for (i, f) in shape.fields.iter().enumerate() {
        out.push_str(if i == 0 { "[" } else { ",[" });
        string(&f.name, out);
        out.push(',');
        kind(schema, &f.kind, out)?;
        out.push(']');
    }
    out.push(']');
    Some(())
}

/// A field's (or an aggregate column's) kind: `"String"`, `"Int"`, `"Float"`, `"Boolean"`, `"DateTime"`,
/// `{ "enum": [[dbName, name], ...] }`, `{ "one": fields }`, `{ "many": fields }`,
/// `{ "count": [names] }`; `None` for what only the engine converts.
fn kind(schema: &Schema, kind: &OutKind, out: &mut String) -> Option<()> {
    match kind {
        OutKind::Scalar { list: true, .. } => return None,
        OutKind::Scalar { ty, list: false } => match ty {
            ScalarType::String => out.push_str("\"String\""),
            ScalarType::Int => out.push_str("\"Int\""),
            ScalarType::Float => out.push_str("\"Float\""),
            ScalarType::Boolean => out.push_str("\"Boolean\""),
            ScalarType::DateTime => out.push_str("\"DateTime\""),
            ScalarType::Enum(id) => {
                out.push_str("{\"enum\":[");
                for (i, v) in schema.enum_(*id).values.iter().enumerate() {
                    out.push_str(if i == 0 { "[" } else { ",[" });
                    string(&v.db_name, out);
                    out.push(',');
                    string(&v.name, out);
                    out.push(']');
                }
                out.push_str("]}");
            }
            ScalarType::BigInt | ScalarType::Decimal | ScalarType::Json | ScalarType::Bytes | ScalarType::Unsupported(_) => return None,
        },
        OutKind::ToOne(shape) => {
            out.push_str("{\"one\":");
            fields(schema, shape, out)?;
            out.push('}');
        }
        OutKind::ToMany(shape) => {
            out.push_str("{\"many\":");
            fields(schema, shape, out)?;
            out.push('}');
        }
        OutKind::Count(names) => {
            out.push_str("{\"count\":[");
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(n, out);
            }
            out.push_str("]}");
        }
    }
    Some(())
}
