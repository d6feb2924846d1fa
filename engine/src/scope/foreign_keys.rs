//! Foreign keys written directly under a tenant (`data: { authorId: 4 }` rather than
//! `author: { connect: { id: 4 } }`) must name a row the tenant can see, like a `connect` target.
//! The database's own foreign key check cannot tell tenants apart, so without this a tenant could
//! link its rows to another tenant's (and learn which ids exist there from the errors).
//!
//! This pass works on a whole plan, before each statement is scoped: every INSERT, UPDATE or
//! `ON CONFLICT DO UPDATE` that writes a foreign key to a tenant-scoped model from a value of the
//! request gets a guard. A single-row INSERT with one such key becomes `INSERT … SELECT … WHERE
//! EXISTS (the referenced row)` and must return its row (one statement, as before); any other
//! write is preceded by `SELECT 1 WHERE NOT EXISTS (the referenced row) OR …`, which must return
//! nothing. The subqueries on the referenced table are then scoped like every read, so another
//! tenant's row and a row that does not exist fail the same way: P2003 on the key's fields, as
//! the database reports a missing row. Keys read by an earlier statement of the plan (a
//! `connect`) come from scoped reads and need no guard; unscoped requests get none at all.

use super::{TenantContext, is_scoped, model_of};
use crate::error::{Error, Result, codes};
use crate::plan::{Check, Plan, Step};
use crate::schema::{FieldId, ModelId, ModelTenancy, RelationLink, Schema};
use crate::sql::{self, Param, Stmt};
use sqlparser::ast::{AssignmentTarget, Expr, OnConflict, OnConflictAction, OnInsert, SetExpr, Statement, TableFactor, TableObject, Value as SqlValue};

struct Cx<'a> {
    schema: &'a Schema,
    namespace: Option<&'a str>,
}

/// One foreign key of a write statement and the values the statement gives it directly.
struct Reference {
    /// The model holding the key and the key's fields (for the error).
    model: ModelId,
    fields: Vec<FieldId>,
    fk_name: String,
    related: ModelId,
    /// The referenced columns, in the order of the values of each row.
    columns: Vec<String>,
    /// Per row written: the value expressions, with the parameters they use.
    rows: Vec<Vec<Expr>>,
}

/// Adds the guards to every write of `plan` that sets a foreign key from a request value.
pub fn guard_foreign_keys(schema: &Schema, namespace: Option<&str>, ctx: &TenantContext, plan: &mut Plan) -> Result<()> {
    if !matches!(ctx, TenantContext::Tenant(_)) {
        return Ok(());
    }
    guard_steps(&Cx { schema, namespace }, &mut plan.steps);
    Ok(())
}

fn guard_steps(cx: &Cx, steps: &mut Vec<Step>) {
    let mut out = Vec::with_capacity(steps.len());
    for mut step in steps.drain(..) {
        match &mut step {
            Step::IfRows { then, otherwise, .. } => {
                guard_steps(cx, then);
                guard_steps(cx, otherwise);
            }
            Step::Query { stmt, check, .. } => {
                let refs = references(cx, stmt);
                if refs.len() == 1 && matches!(check, Check::None) && guard_in_insert(stmt, &refs[0], cx) {
                    *check = Check::NonEmpty(violation(cx, &refs[0]));
                } else {
                    out.extend(refs.iter().map(|r| guard_step(cx, stmt, r)));
                }
            }
            Step::Execute { stmt, .. } => {
                let refs = references(cx, stmt);
                out.extend(refs.iter().map(|r| guard_step(cx, stmt, r)));
            }
        }
        out.push(step);
    }
    *steps = out;
}

/// The guard statements for the foreign keys a raw statement writes (each must return no row).
pub(super) fn raw_guards(schema: &Schema, namespace: Option<&str>, stmt: &Stmt) -> Vec<Step> {
    let cx = Cx { schema, namespace };
    references(&cx, stmt).iter().map(|r| guard_step(&cx, stmt, r)).collect()
}

/// The foreign keys to tenant-scoped models a statement writes from request values.
fn references(cx: &Cx, stmt: &Stmt) -> Vec<Reference> {
    let (model, rows): (ModelId, Vec<Vec<(String, Expr)>>) = match &stmt.ast {
        Statement::Insert(ins) => {
            let TableObject::TableName(name) = &ins.table else { return vec![] };
            let Some(model) = model_of(cx.schema, cx.namespace, name) else { return vec![] };
            let columns: Vec<String> =
                ins.columns.iter().map(|c| sql::split_table_name(c).map(|(_, n)| n.to_owned()).unwrap_or_default()).collect();
            let mut rows = Vec::new();
            if let Some(SetExpr::Values(values)) = ins.source.as_ref().map(|s| s.body.as_ref()) {
                for row in &values.rows {
                    rows.push(columns.iter().cloned().zip(row.content.iter().cloned()).collect());
                }
            }
            if let Some(OnInsert::OnConflict(OnConflict { action: OnConflictAction::DoUpdate(du), .. })) = &ins.on {
                rows.push(assigned(&du.assignments));
            }
            (model, rows)
        }
        Statement::Update(up) => {
            let TableFactor::Table { name, .. } = &up.table.relation else { return vec![] };
            let Some(model) = model_of(cx.schema, cx.namespace, name) else { return vec![] };
            (model, vec![assigned(&up.assignments)])
        }
        _ => return vec![],
    };
    let m = cx.schema.model(model);
    let tenant_field = match cx.schema.tenancy.of(model) {
        ModelTenancy::Scoped { field, .. } => Some(*field),
        _ => None,
    };
    let mut out = Vec::new();
    for (_, _, r) in m.relation_fields() {
        let RelationLink::ForeignKey { fields, references } = &r.link else { continue };
        if !is_scoped(cx.schema, r.related) || fields.iter().all(|f| Some(*f) == tenant_field) {
            continue;
        }
        let column = |f: &FieldId| m.field(*f).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default();
        let fk_columns: Vec<String> = fields.iter().map(column).collect();
        let mut values: Vec<Vec<Expr>> = Vec::new();
        let mut seen: Vec<Vec<String>> = Vec::new();
        for row in &rows {
            let cells: Option<Vec<Expr>> =
                fk_columns.iter().map(|c| row.iter().find(|(rc, _)| rc == c).map(|(_, e)| e.clone())).collect();
            // Only complete keys given as request values; keys read by the plan are already scoped.
            if let Some(cells) = cells.filter(|cells| cells.iter().all(|e| direct(stmt, e))) {
                // Each distinct key once (rows of a createMany often share one).
                let key: Vec<String> = cells.iter().map(|e| value_key(stmt, e)).collect();
                if !seen.contains(&key) {
                    seen.push(key);
                    values.push(cells);
                }
            }
        }
        if values.is_empty() {
            continue;
        }
        let related = cx.schema.model(r.related);
        out.push(Reference {
            model,
            fields: fields.clone(),
            fk_name: r.fk_name.clone().unwrap_or_else(|| format!("{}_{}_fkey", m.db_name, fk_columns.join("_"))),
            related: r.related,
            columns: references.iter().map(|f| related.field(*f).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default()).collect(),
            rows: values,
        });
    }
    out
}

fn assigned(assignments: &[sqlparser::ast::Assignment]) -> Vec<(String, Expr)> {
    assignments
        .iter()
        .filter_map(|a| match &a.target {
            AssignmentTarget::ColumnName(n) => sql::split_table_name(n).map(|(_, c)| (c.to_owned(), a.value.clone())),
            AssignmentTarget::Tuple(_) => None,
        })
        .collect()
}

/// What a value expression stands for: its bound value, or the literal itself.
fn value_key(stmt: &Stmt, e: &Expr) -> String {
    match sql::placeholder_index(e).and_then(|i| stmt.params.get(i - 1)) {
        Some(p) => format!("{p:?}"),
        None => e.to_string(),
    }
}

/// A non-null value from the request: a bound value or a literal.
fn direct(stmt: &Stmt, e: &Expr) -> bool {
    match sql::placeholder_index(e) {
        Some(i) => matches!(stmt.params.get(i - 1), Some(Param::Value(v)) if !v.is_null()),
        None => matches!(e, Expr::Value(v) if !matches!(v.value, SqlValue::Null | SqlValue::Placeholder(_))),
    }
}

/// `[NOT] EXISTS (SELECT 1 FROM related WHERE columns = values)` for one row's values.
fn exists(cx: &Cx, r: &Reference, values: Vec<Expr>, negated: bool) -> Expr {
    let alias = "fk";
    let cond = sql::and(r.columns.iter().zip(values).map(|(c, v)| sql::eq(sql::col(alias, c), v)).collect());
    let q = sql::SelectSpec {
        projection: vec![sql::item(sql::int_lit(1))],
        from: vec![sql::from(sql::table(cx.namespace, &cx.schema.model(r.related).db_name, alias))],
        selection: Some(cond),
        ..Default::default()
    }
    .into_query();
    sql::exists(q, negated)
}

/// Turns a single-row `INSERT … VALUES (…)` into `INSERT … SELECT … WHERE EXISTS (…)` with the
/// same parameters. False (and nothing changed) when the statement has another form.
fn guard_in_insert(stmt: &mut Stmt, r: &Reference, cx: &Cx) -> bool {
    let Statement::Insert(ins) = &mut stmt.ast else { return false };
    if ins.on.is_some() || r.rows.len() != 1 {
        return false;
    }
    let Some(source) = ins.source.as_mut() else { return false };
    let SetExpr::Values(values) = source.body.as_ref() else { return false };
    let [row] = values.rows.as_slice() else { return false };
    if row.content.iter().any(|e| matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("DEFAULT"))) {
        return false;
    }
    let guard = exists(cx, r, r.rows[0].clone(), false);
    let select = sql::SelectSpec { projection: row.content.iter().cloned().map(sql::item).collect(), selection: Some(guard), ..Default::default() }
        .into_query();
    source.body = select.body;
    true
}

/// `SELECT 1 WHERE NOT EXISTS (…) OR …` over every row's values: rows come back when a value
/// names no row the tenant can see.
fn guard_step(cx: &Cx, stmt: &Stmt, r: &Reference) -> Step {
    let mut params = sql::Params::default();
    let mut missing = Vec::with_capacity(r.rows.len());
    for row in &r.rows {
        let values = row
            .iter()
            .map(|e| match sql::placeholder_index(e).and_then(|i| stmt.params.get(i - 1)) {
                Some(Param::Value(v)) => params.bind(v.clone()),
                _ => e.clone(),
            })
            .collect();
        missing.push(exists(cx, r, values, true));
    }
    let q = sql::SelectSpec { projection: vec![sql::item(sql::int_lit(1))], selection: Some(sql::or(missing)), ..Default::default() }.into_query();
    Step::Query {
        stmt: Stmt { ast: Statement::Query(Box::new(q)), params: params.values },
        bind: None,
        types: vec![],
        check: Check::Empty(violation(cx, r)),
    }
}

/// The error the database gives for a key that names no row.
fn violation(cx: &Cx, r: &Reference) -> Error {
    let m = cx.schema.model(r.model);
    let fields: Vec<&str> = r.fields.iter().map(|f| m.field(*f).name.as_str()).collect();
    let name = fields.join(", ");
    Error::new(codes::FOREIGN_KEY_VIOLATION, format!("Foreign key constraint violated on the field: `{name}`"))
        .with_meta("field_name", name)
        .with_meta("constraint", r.fk_name.clone())
        .with_meta("sqlstate", "23503")
        .with_meta("modelName", m.name.clone())
}
