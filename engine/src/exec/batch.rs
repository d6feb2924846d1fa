//! Static plans: requests whose every statement is known before any of them runs, so a driver
//! that cannot hold a transaction open across round trips (Neon's HTTP driver) can still run them
//! as one transaction, sent in one call.
//!
//! A plan is static when it has no branch (`IfRows`) and no parameter that refers to an earlier
//! statement's rows. Its checks and `…OrThrow` outputs are only known after the whole list has
//! run and committed, so a list is only sent when a failing one cannot leave a write behind: it
//! has no checks at all, or it writes in at most one statement and every check is a
//! "some rows" check on that statement (a failing one means that statement changed nothing).
//! This module renders such lists and builds each request's result from the rows they gave, the
//! same way [`super::run_plan`] and [`super::run_raw`] do.

use super::{BatchResult, BatchStatement, Dialect, Var, apply_check, defaults, output, raw_rows};
use crate::error::{Error, Result};
use crate::plan::{Check, OutputKind, Plan, Step};
use crate::rawsql::{RawKind, RawPlan, RawSql};
use crate::schema::Schema;
use crate::sql::{self, Param, Stmt, ast};
use serde_json::Value as Json;

/// A request ready to run, as this module needs to see it.
#[derive(Clone, Copy)]
pub enum Request<'a> {
    Model(&'a Plan),
    Raw(&'a RawPlan),
}

/// One statement of a static list and what must hold of its result.
struct Planned<'a> {
    statement: BatchStatement,
    writes: bool,
    check: &'a Check,
}

/// The statements of a list of requests, rendered, when the whole list can run as one batch
/// (see the module comment); `None` otherwise. `lead` statements (RLS mode's tenant setting) come
/// first and are expected to be reads.
pub fn render(requests: &[Request], lead: Vec<BatchStatement>, dialect: Dialect, clock: defaults::Clock) -> Result<Option<Vec<BatchStatement>>> {
    let defaults = defaults::Defaults::new(clock);
    let mut planned: Vec<Planned> = Vec::new();
    let mut throws = false;
    for request in requests {
        match request {
            Request::Model(plan) => {
                for step in &plan.steps {
                    let (stmt, check) = match step {
                        Step::Query { stmt, check, .. } | Step::Execute { stmt, check, .. } => (stmt, check),
                        Step::IfRows { .. } => return Ok(None),
                    };
                    let Some(values) = values(stmt, &defaults)? else { return Ok(None) };
                    let (sql, params) = sql::render(&stmt.ast, &values, dialect);
                    planned.push(Planned { statement: BatchStatement { sql, params }, writes: writes(&stmt.ast), check });
                }
                throws |= matches!(plan.output.kind, OutputKind::One { or_throw: true, .. });
            }
            Request::Raw(raw) => {
                if !raw.guards.is_empty() {
                    return Ok(None);
                }
                let (sql, params) = match &raw.sql {
                    RawSql::Verbatim { text, params } => (text.clone(), params.clone()),
                    RawSql::Scoped(stmt) => sql::render(&stmt.ast, &crate::rawsql::values_of(stmt)?, dialect),
                };
                // Raw text can do anything: count it as a write.
                planned.push(Planned { statement: BatchStatement { sql, params }, writes: true, check: &Check::None });
            }
        }
    }
    let write_count = planned.iter().filter(|p| p.writes).count();
    let checked = planned.iter().any(|p| !matches!(p.check, Check::None));
    let safe = if !checked && !throws {
        true
    } else {
        match write_count {
            0 => true,
            // A failing `OrThrow` output is not tied to the write, so it could leave it behind.
            1 => !throws && planned.iter().all(|p| matches!(p.check, Check::None) || (p.writes && matches!(p.check, Check::NonEmpty(_)))),
            _ => false,
        }
    };
    if !safe {
        return Ok(None);
    }
    let mut statements = lead;
    statements.extend(planned.into_iter().map(|p| p.statement));
    Ok(Some(statements))
}

/// The parameter values of a statement, or `None` when one refers to an earlier statement's rows.
fn values(stmt: &Stmt, defaults: &defaults::Defaults) -> Result<Option<Vec<crate::value::Value>>> {
    let mut out = Vec::with_capacity(stmt.params.len());
    for p in &stmt.params {
        out.push(match p {
            Param::Value(v) => v.clone(),
            Param::Generated(g) => crate::value::Value::String(defaults.generate(*g)?),
            Param::Ref(_) | Param::Rows { .. } => return Ok(None),
        });
    }
    Ok(Some(out))
}

/// Whether a statement may change data: anything but a plain `SELECT` (locking or not) counts.
fn writes(stmt: &ast::Statement) -> bool {
    match stmt {
        ast::Statement::Query(q) => q.with.is_some() || !matches!(*q.body, ast::SetExpr::Select(_)),
        _ => true,
    }
}

/// Builds each request's result from the results of its statements, in the order [`render`] gave
/// them (after the `lead` ones, which the caller has taken off). The first failing check or
/// output, in request order, is the error.
pub fn finish(schema: &Schema, requests: &[Request], results: Vec<BatchResult>) -> Result<Vec<Json>> {
    let mut results = results.into_iter();
    let mut next = || results.next().ok_or_else(|| Error::internal("the driver returned fewer results than statements"));
    let mut out = Vec::with_capacity(requests.len());
    for request in requests {
        match request {
            Request::Model(plan) => {
                let mut vars: Vec<Option<Var>> = Vec::new();
                for step in &plan.steps {
                    let result = next()?;
                    let (bind, var) = match step {
                        Step::Query { bind, types, check, .. } => {
                            let count = result.rows.rows.len() as u64;
                            apply_check(check, count)?;
                            (bind, Var { rows: result.rows.rows, types: types.clone(), count })
                        }
                        Step::Execute { bind, check, .. } => {
                            apply_check(check, result.affected)?;
                            (bind, Var { count: result.affected, ..Default::default() })
                        }
                        Step::IfRows { .. } => return Err(Error::internal("a branch in a batch")),
                    };
                    if let Some(i) = bind {
                        let i = *i as usize;
                        if vars.len() <= i {
                            vars.resize_with(i + 1, || None);
                        }
                        vars[i] = Some(var);
                    }
                }
                let var = vars.get_mut(plan.output.var as usize).and_then(Option::take).unwrap_or_default();
                out.push(output(schema, &plan.output.kind, var)?);
            }
            Request::Raw(raw) => {
                let result = next()?;
                out.push(match raw.kind {
                    RawKind::Execute => Json::from(result.affected),
                    RawKind::Query => raw_rows(&result.rows),
                });
            }
        }
    }
    Ok(out)
}
