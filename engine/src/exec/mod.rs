//! Execution: drives a plan over a [`Driver`] and shapes rows into result JSON.
//!
//! The plan is a small program (see [`crate::plan::Step`]); this module runs its statements in
//! order, keeps the rows of bound statements in variables, resolves parameters that refer to
//! them, applies the checks, follows branches, and builds the result from the output variable.
//! [`batch`] runs plans whose statements are all known up front in one call on a driver that
//! cannot hold a transaction open.

pub mod batch;
pub mod decode;
pub mod defaults;
pub mod driver;
pub mod errors;
mod text;
pub mod transactions;

pub use driver::*;

use crate::error::{Error, Result};
use crate::plan::{Check, OutputKind, Plan, Step};
use crate::schema::{ScalarType, Schema};
use crate::sql::{self, Param, Stmt};
use crate::value::Value;
use serde_json::{Map, Value as Json};

/// Rows (or an affected-row count) kept by a bound statement.
#[derive(Default)]
struct Var {
    rows: Vec<Vec<DbValue>>,
    types: Vec<ScalarType>,
    count: u64,
}

struct Runtime<'a, Q> {
    q: &'a Q,
    schema: &'a Schema,
    dialect: Dialect,
    defaults: defaults::Defaults,
    vars: Vec<Option<Var>>,
    /// For a plan shared between runs: its statements, their text and this run's parameters.
    bound: Option<(Vec<&'a Stmt>, &'a Bound)>,
}

/// What a run of a shared plan (a cached one, see [`crate::cache`]) brings of its own: the
/// parameters of each statement (in [`Plan::statements`] order), beside the text rendered once.
#[derive(Clone, Debug)]
pub struct Bound {
    /// Each statement's text as PostgreSQL writes it (`$n` placeholders).
    pub texts: std::sync::Arc<Vec<String>>,
    pub params: Vec<Vec<Param>>,
}

/// Runs a plan on `q` (a pool, a connection or an open transaction) and builds its result.
/// `clock` dates the generated defaults that carry a time (uuid v7, cuid, ulid).
pub async fn run_plan<Q: Queryable>(q: &Q, schema: &Schema, plan: &Plan, dialect: Dialect, clock: defaults::Clock) -> Result<Json> {
    run_plan_bound(q, schema, plan, None, dialect, clock).await
}

/// [`run_plan`] with a run's own parameters and the statements' text given (`bound`), so a
/// cached plan's tree is neither copied nor rendered again.
pub async fn run_plan_bound<Q: Queryable>(
    q: &Q,
    schema: &Schema,
    plan: &Plan,
    bound: Option<&Bound>,
    dialect: Dialect,
    clock: defaults::Clock,
) -> Result<Json> {
    let var = run_steps(q, schema, plan, bound, dialect, clock).await?;
    output(schema, &plan.output.kind, var)
}

/// [`run_plan_bound`] with the result as JSON text, written from the rows without building its
/// tree (see [`text`]).
pub async fn run_plan_text<Q: Queryable>(
    q: &Q,
    schema: &Schema,
    plan: &Plan,
    bound: Option<&Bound>,
    dialect: Dialect,
    clock: defaults::Clock,
) -> Result<String> {
    let var = run_steps(q, schema, plan, bound, dialect, clock).await?;
    text::output(schema, &plan.output.kind, var)
}

/// Runs a plan's steps; the rows of its output variable.
async fn run_steps<Q: Queryable>(
    q: &Q,
    schema: &Schema,
    plan: &Plan,
    bound: Option<&Bound>,
    dialect: Dialect,
    clock: defaults::Clock,
) -> Result<Var> {
    let bound = bound.map(|b| (plan.statements(), b));
    let mut rt = Runtime { q, schema, dialect, defaults: defaults::Defaults::new(clock), vars: Vec::new(), bound };
    rt.run(&plan.steps).await?;
    Ok(rt.vars.get_mut(plan.output.var as usize).and_then(Option::take).unwrap_or_default())
}

/// Runs a raw request: its guards, then the statement. `queryRaw` gives rows as objects keyed by
/// column name, decoded by the column types the driver reports; `executeRaw` the affected count.
pub async fn run_raw<Q: Queryable>(q: &Q, schema: &Schema, plan: &crate::rawsql::RawPlan, dialect: Dialect, clock: defaults::Clock) -> Result<Json> {
    use crate::rawsql::{RawKind, RawSql};
    let mut rt = Runtime { q, schema, dialect, defaults: defaults::Defaults::new(clock), vars: Vec::new(), bound: None };
    rt.run(&plan.guards).await?;
    let (text, params) = match &plan.sql {
        RawSql::Verbatim { text, params } => (text.clone(), params.clone()),
        RawSql::Scoped(stmt) => sql::render(&stmt.ast, &crate::rawsql::values_of(stmt)?, dialect),
    };
    let map = |e| errors::map_driver_error(schema, e);
    match plan.kind {
        RawKind::Execute => Ok(Json::from(q.execute(&text, &params).await.map_err(map)?)),
        RawKind::Query => Ok(raw_rows(&q.query(&text, &params).await.map_err(map)?)),
    }
}

/// A raw query's rows as objects keyed by column name, decoded by the reported column types.
fn raw_rows(rs: &ResultSet) -> Json {
    let rows = rs
        .rows
        .iter()
        .map(|row| {
            let mut obj = Map::with_capacity(rs.columns.len());
            for (c, v) in rs.columns.iter().zip(row) {
                obj.insert(c.name.clone(), decode::decode_by_column(c.ty, v));
            }
            Json::Object(obj)
        })
        .collect();
    Json::Array(rows)
}

impl<Q: Queryable> Runtime<'_, Q> {
    /// Runs steps in order. Branches (`IfRows`) push their steps on a stack instead of recursing,
    /// so the future is a plain `async fn` whose `Send`-ness follows the driver's (a native
    /// host runs it on a multi-threaded runtime; the Wasm host on its own executor).
    async fn run(&mut self, steps: &[Step]) -> Result<()> {
        let mut stack = vec![steps.iter()];
        while let Some(top) = stack.last_mut() {
            let Some(step) = top.next() else {
                stack.pop();
                continue;
            };
            match step {
                Step::Query { stmt, bind, types, check } => {
                    let (text, params) = self.render(stmt)?;
                    let rs = self.q.query(&text, &params).await.map_err(|e| errors::map_driver_error(self.schema, e))?;
                    apply_check(check, rs.rows.len() as u64)?;
                    if let Some(v) = bind {
                        let count = rs.rows.len() as u64;
                        self.set(*v, Var { rows: rs.rows, types: types.clone(), count });
                    }
                }
                Step::Execute { stmt, bind, check } => {
                    let (text, params) = self.render(stmt)?;
                    let n = self.q.execute(&text, &params).await.map_err(|e| errors::map_driver_error(self.schema, e))?;
                    apply_check(check, n)?;
                    if let Some(v) = bind {
                        self.set(*v, Var { count: n, ..Default::default() });
                    }
                }
                Step::IfRows { var, then, otherwise } => {
                    let has_rows = self.vars.get(*var as usize).and_then(Option::as_ref).is_some_and(|v| !v.rows.is_empty());
                    stack.push(if has_rows { then } else { otherwise }.iter());
                }
            }
        }
        Ok(())
    }

    fn set(&mut self, index: u32, var: Var) {
        let i = index as usize;
        if self.vars.len() <= i {
            self.vars.resize_with(i + 1, || None);
        }
        self.vars[i] = Some(var);
    }

    /// The SQL text and parameter values of a statement, references resolved.
    fn render(&self, stmt: &Stmt) -> Result<(String, Vec<Value>)> {
        if let Some((stmts, bound)) = &self.bound
            && let Some(i) = stmts.iter().position(|s| std::ptr::eq(*s, stmt))
            && let (Some(text), Some(params)) = (bound.texts.get(i), bound.params.get(i))
        {
            let values = params.iter().map(|p| self.resolve(p)).collect::<Result<Vec<_>>>()?;
            return Ok(sql::render_text(text, &values, self.dialect));
        }
        let values = stmt.params.iter().map(|p| self.resolve(p)).collect::<Result<Vec<_>>>()?;
        Ok(sql::render(&stmt.ast, &values, self.dialect))
    }

    fn resolve(&self, p: &Param) -> Result<Value> {
        match p {
            Param::Value(v) => Ok(v.clone()),
            Param::Generated(g) => self.defaults.generate(*g).map(Value::String),
            Param::Rows { var, columns } => {
                let v = self
                    .vars
                    .get(*var as usize)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| Error::internal("a statement refers to a result that was not produced"))?;
                let tuple = |row: &Vec<DbValue>| -> Result<Value> {
                    let cells = columns.iter().map(|c| {
                        let ty = v.types.get(*c as usize).cloned().unwrap_or(ScalarType::String);
                        decode::decode_scalar(self.schema, &ty, &row.get(*c as usize).cloned().unwrap_or(DbValue::Null))
                    });
                    Ok(Value::List(cells.collect::<Result<Vec<_>>>()?))
                };
                if v.rows.is_empty() {
                    return Ok(Value::List(vec![Value::List(vec![Value::Null; columns.len()])]));
                }
                Ok(Value::List(v.rows.iter().map(tuple).collect::<Result<Vec<_>>>()?))
            }
            Param::Ref(r) => {
                let var = self
                    .vars
                    .get(r.var as usize)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| Error::internal("a statement refers to a result that was not produced"))?;
                let ty = var.types.get(r.column as usize).cloned().unwrap_or(ScalarType::String);
                let cell = |row: &Vec<DbValue>| -> Result<Value> {
                    let v = row.get(r.column as usize).cloned().unwrap_or(DbValue::Null);
                    decode::decode_scalar(self.schema, &ty, &v)
                };
                if r.all {
                    Ok(Value::List(var.rows.iter().map(cell).collect::<Result<Vec<_>>>()?))
                } else {
                    match var.rows.first() {
                        Some(row) => cell(row),
                        None => Ok(Value::Null),
                    }
                }
            }
        }
    }
}

fn apply_check(check: &Check, n: u64) -> Result<()> {
    match check {
        Check::None => Ok(()),
        Check::NonEmpty(e) if n == 0 => Err(e.clone()),
        Check::Empty(e) if n > 0 => Err(e.clone()),
        _ => Ok(()),
    }
}

fn output(schema: &Schema, kind: &OutputKind, var: Var) -> Result<Json> {
    match kind {
        OutputKind::Many { shape, reverse } => {
            let mut rows = var.rows.iter().map(|r| decode::decode_row(schema, shape, r)).collect::<Result<Vec<_>>>()?;
            if *reverse {
                rows.reverse();
            }
            Ok(Json::Array(rows))
        }
        OutputKind::One { shape, or_throw } => match var.rows.first() {
            Some(r) => decode::decode_row(schema, shape, r),
            None if *or_throw => Err(Error::record_not_found("Expected a record, found none.")),
            None => Ok(Json::Null),
        },
        OutputKind::Count { fields } => {
            let row = var.rows.first().ok_or_else(|| Error::internal("count returned no row"))?;
            let count = |v: &DbValue| match v {
                DbValue::Int(i) => Json::from(*i),
                DbValue::Text(s) => s.parse::<i64>().map(Json::from).unwrap_or(Json::Null),
                _ => Json::Null,
            };
            if fields.is_empty() {
                return Ok(row.first().map(count).unwrap_or(Json::Null));
            }
            let mut obj = Map::new();
            for (name, v) in fields.iter().zip(row) {
                obj.insert(name.clone(), count(v));
            }
            Ok(Json::Object(obj))
        }
        OutputKind::Affected => Ok(serde_json::json!({ "count": var.count })),
        OutputKind::Aggregate { columns } => match var.rows.first() {
            Some(row) => aggregate_row(schema, columns, row),
            // With no aggregate selected the statement selects rows, not aggregates, and none may
            // match: the result is Prisma's, an empty object.
            None if columns.is_empty() => Ok(Json::Object(Map::new())),
            None => Err(Error::internal("aggregate returned no row")),
        },
        OutputKind::Groups { columns } => {
            var.rows.iter().map(|r| aggregate_row(schema, columns, r)).collect::<Result<Vec<_>>>().map(Json::Array)
        }
    }
}

/// `{ field, _count: { _all, f }, _sum: { f }, ... }`; a bare `_count` is a number.
fn aggregate_row(schema: &Schema, columns: &[crate::plan::aggregate::AggColumn], row: &[DbValue]) -> Result<Json> {
    let mut obj = Map::new();
    for (c, v) in columns.iter().zip(row) {
        let value = decode::decode_scalar(schema, &c.ty, v)?.to_json();
        match c.key {
            None => {
                obj.insert(c.name.clone(), value);
            }
            Some(key) if c.name.is_empty() => {
                obj.insert(key.to_owned(), value);
            }
            Some(key) => {
                let entry = obj.entry(key.to_owned()).or_insert_with(|| Json::Object(Map::new()));
                if let Json::Object(m) = entry {
                    m.insert(c.name.clone(), value);
                }
            }
        }
    }
    Ok(Json::Object(obj))
}

/// A parameter as `$compile` shows it: the value, or where it will come from.
pub fn describe_param(p: &Param) -> Json {
    match p {
        Param::Value(v) => v.to_json(),
        Param::Ref(r) => serde_json::json!({ "$ref": { "result": r.var, "column": r.column, "all": r.all } }),
        Param::Rows { var, columns } => serde_json::json!({ "$rows": { "result": var, "columns": columns } }),
        Param::Generated(g) => serde_json::json!({ "$generated": g.to_string() }),
    }
}
