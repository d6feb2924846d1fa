//! Links in implicit many-to-many join tables (`_AToB`) under a tenant.
//!
//! A join table has no tenant column: a link row belongs to the rows it joins. When one side is a
//! tenant-scoped model (or the tenant model), the plan only ever writes links of rows it read under
//! the tenant, so the link is the tenant's. When neither side is — a global row joined to a shared
//! row, or two global rows — a link is seen by every tenant, so under a tenant it may only change
//! when a shared side is the tenant's own row: such writes get a guard statement first that
//! fails with `Q3003` if any link they would add or remove has no such side, and links between
//! two global models are refused outright. A model declared writable (`@quarry.global(writable)`,
//! `@quarry.shared(writable)`) lifts this for its links.

use super::{TenantContext, model_of};
use crate::error::{Error, Result, codes};
use crate::plan::{Check, Plan, Step};
use crate::schema::{JoinColumn, ModelId, ModelTenancy, RelationLink, Schema};
use crate::sql::{self, Param, Stmt};
use sqlparser::ast::{Expr, FromTable, SetExpr, Statement, TableFactor, TableObject};

/// One side of a join table: the model, its join column and the column it refers to.
struct Side {
    model: ModelId,
    join_column: &'static str,
    reference: String,
}

/// The two sides of the join table `table`, if it is one.
fn sides(schema: &Schema, table: &str) -> Option<[Side; 2]> {
    for id in schema.model_ids() {
        for (_, _, r) in schema.model(id).relation_fields() {
            let RelationLink::JoinTable { table: t, column, reference, other_reference } = &r.link else { continue };
            if t != table {
                continue;
            }
            let column_of = |m: ModelId, f| schema.model(m).field(f).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default();
            let name = |c: &JoinColumn| -> &'static str { (*c).name() };
            return Some([
                Side { model: id, join_column: name(column), reference: column_of(id, *reference) },
                Side { model: r.related, join_column: name(&column.other()), reference: column_of(r.related, *other_reference) },
            ]);
        }
    }
    None
}

/// What a tenant may do with the links of one join table.
enum Rule {
    /// A side belongs to a tenant (or is declared writable): links follow that side.
    Free,
    /// Only links with one of these shared sides owned by the tenant.
    OwnShared(Vec<Side>),
    /// Global to global: read-only under a tenant.
    Refused,
}

fn rule(schema: &Schema, sides: [Side; 2]) -> Rule {
    let owned = |s: &Side| matches!(schema.tenancy.of(s.model), ModelTenancy::Scoped { shared: false, .. } | ModelTenancy::Tenant { .. });
    if sides.iter().any(|s| owned(s) || schema.tenancy.writable(s.model)) {
        return Rule::Free;
    }
    let shared: Vec<Side> = sides.into_iter().filter(|s| matches!(schema.tenancy.of(s.model), ModelTenancy::Scoped { shared: true, .. })).collect();
    if shared.is_empty() { Rule::Refused } else { Rule::OwnShared(shared) }
}

/// Adds a guard before every join-table write of `plan` whose links need one; refuses the plan
/// when it writes links between two global models.
pub fn guard_links(schema: &Schema, namespace: Option<&str>, ctx: &TenantContext, plan: &mut Plan) -> Result<()> {
    let TenantContext::Tenant(tenant) = ctx else { return Ok(()) };
    let cx = Cx { schema, namespace, tenant: Param::Value(tenant.clone()) };
    guard_steps(&cx, &mut plan.steps)
}

struct Cx<'a> {
    schema: &'a Schema,
    namespace: Option<&'a str>,
    tenant: Param,
}

fn guard_steps(cx: &Cx, steps: &mut Vec<Step>) -> Result<()> {
    let mut out = Vec::with_capacity(steps.len());
    for mut step in steps.drain(..) {
        match &mut step {
            Step::IfRows { then, otherwise, .. } => {
                guard_steps(cx, then)?;
                guard_steps(cx, otherwise)?;
            }
            Step::Query { stmt, .. } | Step::Execute { stmt, .. } => {
                if let Some(guard) = guard_for(cx, stmt)? {
                    out.push(guard);
                }
            }
        }
        out.push(step);
    }
    *steps = out;
    Ok(())
}

/// The join table a statement writes: its name and, for a DELETE, the name its rows go by.
fn written_join_table<'s>(cx: &Cx, stmt: &'s Statement) -> Option<(&'s str, String)> {
    let name = match stmt {
        Statement::Insert(ins) => match &ins.table {
            TableObject::TableName(n) => n,
            _ => return None,
        },
        Statement::Delete(del) => {
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &del.from;
            match from.first().map(|t| &t.relation) {
                Some(TableFactor::Table { name, .. }) => name,
                _ => return None,
            }
        }
        _ => return None,
    };
    if model_of(cx.schema, cx.namespace, name).is_some() {
        return None;
    }
    let (_, table) = sql::split_table_name(name)?;
    let reference = match stmt {
        Statement::Delete(del) => {
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &del.from;
            match from.first().map(|t| &t.relation) {
                Some(TableFactor::Table { alias: Some(a), .. }) => a.name.value.clone(),
                _ => table.to_owned(),
            }
        }
        _ => table.to_owned(),
    };
    Some((table, reference))
}

/// `EXISTS (SELECT 1 FROM side AS "own" WHERE "own".ref = value AND "own".tenant = $t)`.
fn owned(cx: &Cx, side: &Side, value: Expr, tenant: &Expr) -> Expr {
    let m = cx.schema.model(side.model);
    let ModelTenancy::Scoped { field, .. } = cx.schema.tenancy.of(side.model) else { return sql::bool_lit(false) };
    let tenant_column = m.field(*field).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default();
    let q = sql::SelectSpec {
        projection: vec![sql::item(sql::int_lit(1))],
        from: vec![sql::from(sql::table(cx.namespace, &m.db_name, "own"))],
        selection: Some(sql::and(vec![sql::eq(sql::col("own", &side.reference), value), sql::eq(sql::col("own", &tenant_column), tenant.clone())])),
        ..Default::default()
    }
    .into_query();
    sql::exists(q, false)
}

fn refused(cx: &Cx, sides: &[Side]) -> Error {
    let names: Vec<&str> = sides.iter().map(|s| cx.schema.model(s.model).name.as_str()).collect();
    Error::new(
        codes::TENANT_WRITE_REFUSED,
        format!(
            "links between {} rows belong to no tenant: under a tenant they can only change where a shared row is the tenant's own (declare a model writable to allow more)",
            names.join(" and ")
        ),
    )
    .with_meta("models", names.join(", "))
}

fn guard_for(cx: &Cx, stmt: &Stmt) -> Result<Option<Step>> {
    let Some((table, reference)) = written_join_table(cx, &stmt.ast) else { return Ok(None) };
    let Some(sides) = sides(cx.schema, table) else { return Ok(None) };
    let models = [sides[0].model, sides[1].model];
    let all: Vec<Side> = models.iter().map(|m| Side { model: *m, join_column: "", reference: String::new() }).collect();
    let shared = match rule(cx.schema, sides) {
        Rule::Free => return Ok(None),
        Rule::Refused => return Err(refused(cx, &all)),
        Rule::OwnShared(shared) => shared,
    };
    // The guard binds only what it uses (a parameter PostgreSQL sees no use of has no type).
    let (from, selection, params) = match &stmt.ast {
        Statement::Insert(ins) => {
            let columns: Vec<String> = ins.columns.iter().map(|c| sql::split_table_name(c).map(|(_, n)| n.to_owned()).unwrap_or_default()).collect();
            let Some(SetExpr::Values(values)) = ins.source.as_ref().map(|s| s.body.as_ref()) else {
                return Err(Error::internal("a join table insert without a VALUES list"));
            };
            let mut params: Vec<Param> = Vec::new();
            let mut rows = Vec::new();
            for row in &values.rows {
                let mut owned_sides = Vec::new();
                for side in &shared {
                    let Some(value) = columns.iter().position(|c| c == side.join_column).and_then(|i| row.content.get(i)) else { continue };
                    let value = match sql::placeholder_index(value).and_then(|i| stmt.params.get(i - 1)) {
                        Some(p) => {
                            params.push(p.clone());
                            sql::placeholder(params.len())
                        }
                        None => value.clone(),
                    };
                    owned_sides.push((side, value));
                }
                rows.push(owned_sides);
            }
            params.push(cx.tenant.clone());
            let tenant = sql::placeholder(params.len());
            let conds = rows
                .into_iter()
                .map(|sides| sql::not(sql::or(sides.into_iter().map(|(side, value)| owned(cx, side, value, &tenant)).collect())))
                .collect();
            (vec![], sql::or(conds), params)
        }
        Statement::Delete(del) => {
            // The statement's own condition uses every one of its parameters.
            let mut params = stmt.params.clone();
            params.push(cx.tenant.clone());
            let tenant = sql::placeholder(params.len());
            let cond = sql::not(sql::or(shared.iter().map(|s| owned(cx, s, sql::col(&reference, s.join_column), &tenant)).collect()));
            let selection = match &del.selection {
                Some(w) => sql::and(vec![w.clone(), cond]),
                None => cond,
            };
            (vec![sql::from(sql::table(cx.namespace, table, &reference))], selection, params)
        }
        _ => return Ok(None),
    };
    let q = sql::SelectSpec { projection: vec![sql::item(sql::int_lit(1))], from, selection: Some(selection), limit: Some(sql::int_lit(1)), ..Default::default() }
        .into_query();
    Ok(Some(Step::Query {
        stmt: Stmt { ast: Statement::Query(Box::new(q)), params },
        bind: None,
        types: vec![],
        check: Check::Empty(refused(cx, &all)),
    }))
}
