//! Write plans for MySQL, which has no `RETURNING` (MariaDB has it for INSERT and DELETE, MySQL
//! 8.0 has none) and no `ON CONFLICT`: every statement that returns rows is rewritten into
//! statements MySQL runs, inside the request's transaction, with the same result:
//!
//! - `INSERT ... RETURNING`: ids the engine generates are drawn first (`SELECT ?` into a
//!   variable, so the insert and the read agree on them), each row is inserted on its own, its
//!   key read as given or with `LAST_INSERT_ID()`, and the returned columns read back by key in
//!   insertion order;
//! - `UPDATE ... RETURNING` / `DELETE ... RETURNING`: the keys of the rows the statement reaches
//!   are read and locked first (`SELECT ... FOR UPDATE`, which carries the statement's check),
//!   then the statement, then (update) the rows read back by key, or (delete) read before;
//! - an `UPDATE` whose count is the result: the count is the number of rows the locking read
//!   found (matched rows, as on PostgreSQL, whatever the connection's found-rows flag);
//! - `ON CONFLICT DO NOTHING`: `ON DUPLICATE KEY UPDATE c = c`, a no-op on a duplicate that
//!   counts 0 affected rows (any unique key, as `ON CONFLICT DO NOTHING` is any constraint).

use super::{Check, Plan, Step};
use crate::error::{Error, Result, codes};
use crate::schema::{DefaultValue, ModelId, Schema};
use crate::sql::{self, Param, Stmt, VarRef, ast::Expr, ast::SelectItem, ast::Statement};

struct Cx<'a> {
    schema: &'a Schema,
    namespace: Option<&'a str>,
    next_var: u32,
}

fn refuse(what: &str) -> Error {
    Error::new(codes::UNSUPPORTED, format!("{what} is not supported on MySQL yet"))
}

/// Rewrites a write plan's statements for MySQL.
pub(super) fn rewrite(schema: &Schema, namespace: Option<&str>, plan: &mut Plan) -> Result<()> {
    let mut max = plan.output.var;
    fn scan(steps: &[Step], max: &mut u32) {
        for s in steps {
            match s {
                Step::Query { stmt, bind, .. } | Step::Execute { stmt, bind, .. } => {
                    if let Some(b) = bind {
                        *max = (*max).max(*b);
                    }
                    for p in &stmt.params {
                        if let Param::Ref(r) = p {
                            *max = (*max).max(r.var);
                        }
                    }
                }
                Step::IfRows { var, then, otherwise } => {
                    *max = (*max).max(*var);
                    scan(then, max);
                    scan(otherwise, max);
                }
            }
        }
    }
    scan(&plan.steps, &mut max);
    let mut cx = Cx { schema, namespace, next_var: max + 1 };
    plan.steps = cx.steps(std::mem::take(&mut plan.steps))?;
    Ok(())
}

impl Cx<'_> {
    fn var(&mut self) -> u32 {
        self.next_var += 1;
        self.next_var - 1
    }

    fn model_of(&self, name: &sql::ast::ObjectName) -> Option<ModelId> {
        let (_, table) = sql::split_table_name(name)?;
        self.schema.model_ids().find(|id| self.schema.model(*id).db_name == table)
    }

    fn steps(&mut self, steps: Vec<Step>) -> Result<Vec<Step>> {
        let mut out = Vec::with_capacity(steps.len());
        for step in steps {
            match step {
                Step::IfRows { var, then, otherwise } => {
                    let then = self.steps(then)?;
                    let otherwise = self.steps(otherwise)?;
                    out.push(Step::IfRows { var, then, otherwise });
                }
                Step::Query { stmt, bind, types, check } => match &stmt.ast {
                    Statement::Insert(ins) if ins.returning.is_some() => self.insert_returning(stmt, bind, types, check, &mut out)?,
                    Statement::Update(u) if u.returning.is_some() => self.update_returning(stmt, bind, types, check, &mut out)?,
                    Statement::Delete(d) if d.returning.is_some() => self.delete_returning(stmt, bind, types, check, &mut out)?,
                    _ => out.push(Step::Query { stmt, bind, types, check }),
                },
                Step::Execute { stmt, bind, check } => match &stmt.ast {
                    Statement::Delete(_) => out.push(Step::Execute { stmt: unaliased_delete(stmt), bind, check }),
                    Statement::Update(_) if bind.is_some() => self.update_counted(stmt, bind, check, &mut out)?,
                    Statement::Insert(ins) if ins.on.is_some() => out.push(Step::Execute { stmt: self.insert_ignoring(stmt)?, bind, check }),
                    _ => out.push(Step::Execute { stmt, bind, check }),
                },
            }
        }
        Ok(out)
    }

    /// `ON CONFLICT DO NOTHING` as `ON DUPLICATE KEY UPDATE first = first`.
    fn insert_ignoring(&self, mut stmt: Stmt) -> Result<Stmt> {
        let Statement::Insert(ins) = &mut stmt.ast else { return Ok(stmt) };
        match &ins.on {
            Some(sql::ast::OnInsert::OnConflict(c)) if matches!(c.action, sql::ast::OnConflictAction::DoNothing) => {}
            _ => return Err(refuse("this insert")),
        }
        let first = ins.columns.first().map(|c| c.to_string()).ok_or_else(|| refuse("an insert of defaults only that skips duplicates"))?;
        let first = first.trim_matches('"').to_owned();
        ins.on = Some(sql::ast::OnInsert::DuplicateKeyUpdate(vec![sql::ast::Assignment {
            target: sql::ast::AssignmentTarget::ColumnName(sql::ast::ObjectName(vec![sql::ast::ObjectNamePart::Identifier(sql::ident(&first))])),
            value: Expr::Identifier(sql::ident(&first)),
        }]));
        Ok(stmt)
    }

    /// A new parameter appended to a statement's list: its placeholder.
    fn push(params: &mut Vec<Param>, p: Param) -> Expr {
        params.push(p);
        sql::placeholder(params.len())
    }

    /// `SELECT items FROM table WHERE cond [ORDER BY ...] [FOR UPDATE]`.
    fn select(&self, table: &sql::ast::ObjectName, items: Vec<SelectItem>, cond: Option<Expr>, order_by: Vec<sql::ast::OrderByExpr>, lock: bool) -> Statement {
        let (ns, t) = sql::split_table_name(table).unwrap_or((None, ""));
        let q = sql::SelectSpec { projection: items, from: vec![sql::from(sql::table_plain(ns.or(self.namespace), t))], selection: cond, order_by, ..Default::default() }
            .into_query();
        Statement::Query(Box::new(if lock { sql::for_update(q) } else { q }))
    }

    /// The identifier columns of `model`, qualified by its table name.
    fn key_columns(&self, model: ModelId) -> Vec<(String, Expr)> {
        let m = self.schema.model(model);
        m.identifier()
            .iter()
            .filter_map(|f| m.field(*f).as_scalar())
            .map(|s| (s.db_name.clone(), sql::col(&m.db_name, &s.db_name)))
            .collect()
    }

    fn key_types(&self, model: ModelId) -> Vec<crate::schema::ScalarType> {
        let m = self.schema.model(model);
        m.identifier().iter().filter_map(|f| m.field(*f).as_scalar()).map(|s| s.ty.clone()).collect()
    }

    /// `key IN ($list)` / `(a, b) IN ((?, ?), ...)`: the rows whose keys variable `var` holds in
    /// its columns `first..first + keys`.
    fn keys_in(&self, model: ModelId, var: u32, first: u32, params: &mut Vec<Param>) -> Result<Expr> {
        let keys = self.key_columns(model);
        match keys.len() {
            0 => Err(refuse("a model without identifier")),
            1 => {
                let (_, col) = keys.into_iter().next().ok_or_else(|| refuse("a model without identifier"))?;
                let r = Self::push(params, Param::Ref(VarRef { var, column: first, all: true }));
                Ok(sql::in_list(col, vec![r]))
            }
            n => {
                let cols = keys.into_iter().map(|(_, c)| c).collect();
                let r = Self::push(params, Param::Rows { var, columns: (first..first + n as u32).collect() });
                Ok(sql::in_list(Expr::Tuple(cols), vec![r]))
            }
        }
    }

    fn insert_returning(&mut self, mut stmt: Stmt, bind: Option<u32>, types: Vec<crate::schema::ScalarType>, check: Check, out: &mut Vec<Step>) -> Result<()> {
        // Engine-generated ids are drawn once, before the insert, so the read-back finds them.
        let generated: Vec<usize> = stmt.params.iter().enumerate().filter(|(_, p)| matches!(p, Param::Generated(_))).map(|(i, _)| i).collect();
        if !generated.is_empty() {
            let g = self.var();
            let mut params = Vec::new();
            let items = generated.iter().map(|i| sql::item(Self::push(&mut params, stmt.params[*i].clone()))).collect();
            let q = sql::SelectSpec { projection: items, ..Default::default() }.into_query();
            let types = generated.iter().map(|_| crate::schema::ScalarType::String).collect();
            out.push(Step::Query { stmt: Stmt { ast: Statement::Query(Box::new(q)), params }, bind: Some(g), types, check: Check::None });
            for (column, i) in generated.iter().enumerate() {
                stmt.params[*i] = Param::Ref(VarRef { var: g, column: column as u32, all: false });
            }
        }
        let Statement::Insert(ins) = &stmt.ast else { return Ok(()) };
        if ins.on.is_some() {
            return Err(refuse("returning rows from an insert that skips duplicates"));
        }
        let sql::ast::TableObject::TableName(table) = &ins.table else { return Err(refuse("this insert")) };
        let table = table.clone();
        let model = self.model_of(&table).ok_or_else(|| refuse("returning rows from this table"))?;
        let items = ins.returning.clone().unwrap_or_default();
        let columns: Vec<String> = ins.columns.iter().map(|c| c.to_string().trim_matches('"').to_owned()).collect();
        let rows: Vec<Vec<Expr>> = match ins.source.as_ref().map(|q| q.body.as_ref()) {
            Some(sql::ast::SetExpr::Values(v)) => v.rows.iter().map(|r| r.content.clone()).collect(),
            _ => return Err(refuse("this insert")),
        };
        let m = self.schema.model(model);
        let autoincrement: Vec<String> =
            m.scalar_fields().filter(|(_, _, s)| matches!(s.default, Some(DefaultValue::Autoincrement))).map(|(_, _, s)| s.db_name.clone()).collect();
        let keys = self.key_columns(model);
        let mut key_vars = Vec::with_capacity(rows.len());
        for row in rows {
            // The row on its own.
            let mut one = stmt.clone();
            if let Statement::Insert(i) = &mut one.ast {
                i.returning = None;
                if let Some(src) = &mut i.source
                    && let sql::ast::SetExpr::Values(v) = src.body.as_mut()
                {
                    v.rows.retain(|r| r.content == row);
                    v.rows.truncate(1);
                }
            }
            out.push(Step::Execute { stmt: one, bind: None, check: Check::None });
            // Its key: as given, or the id the database just generated.
            let mut items_k = Vec::with_capacity(keys.len());
            for (name, _) in &keys {
                let given = columns.iter().position(|c| c == name).and_then(|i| row.get(i)).filter(|e| !is_default(e)).cloned();
                let e = match given {
                    Some(e) => e,
                    None if autoincrement.contains(name) => sql::func("LAST_INSERT_ID", vec![]),
                    None => return Err(refuse("reading back a row whose key the database generates")),
                };
                items_k.push(sql::item(e));
            }
            let k = self.var();
            let q = sql::SelectSpec { projection: items_k, ..Default::default() }.into_query();
            out.push(Step::Query { stmt: Stmt { ast: Statement::Query(Box::new(q)), params: stmt.params.clone() }, bind: Some(k), types: self.key_types(model), check: Check::None });
            key_vars.push(k);
        }
        // The rows, by key, in insertion order.
        let mut params = stmt.params.clone();
        let mut matches = Vec::with_capacity(key_vars.len());
        for k in &key_vars {
            let mut parts = Vec::with_capacity(keys.len());
            for (i, (_, col)) in keys.iter().enumerate() {
                let r = Self::push(&mut params, Param::Ref(VarRef { var: *k, column: i as u32, all: false }));
                parts.push(sql::eq(col.clone(), r));
            }
            matches.push(sql::and(parts));
        }
        let order = if matches.len() > 1 {
            let conditions = matches
                .iter()
                .enumerate()
                .map(|(i, m)| sql::ast::CaseWhen { condition: m.clone(), result: sql::int_lit(i as i64) })
                .collect();
            vec![sql::order_expr(
                Expr::Case {
                    case_token: sql::ast::helpers::attached_token::AttachedToken::empty(),
                    end_token: sql::ast::helpers::attached_token::AttachedToken::empty(),
                    operand: None,
                    conditions,
                    else_result: None,
                },
                false,
                None,
            )]
        } else {
            vec![]
        };
        let ast = self.select(&table, items, Some(sql::or(matches)), order, false);
        out.push(Step::Query { stmt: Stmt { ast, params }, bind, types, check });
        Ok(())
    }

    fn update_returning(&mut self, stmt: Stmt, bind: Option<u32>, types: Vec<crate::schema::ScalarType>, check: Check, out: &mut Vec<Step>) -> Result<()> {
        let Statement::Update(u) = &stmt.ast else { return Ok(()) };
        let sql::ast::TableFactor::Table { name: table, .. } = &u.table.relation else { return Err(refuse("this update")) };
        let table = table.clone();
        let model = self.model_of(&table).ok_or_else(|| refuse("returning rows from this table"))?;
        let keys = self.key_columns(model);
        // An update that changes the identifier reads, with the old keys, the new ones: its
        // assignments evaluated on the same rows (MySQL evaluates a single-table UPDATE's
        // assignments left to right, so a key's new value may only depend on columns no other
        // assignment changes).
        let assigned: Vec<(String, Expr)> = u
            .assignments
            .iter()
            .filter_map(|a| match &a.target {
                sql::ast::AssignmentTarget::ColumnName(n) => Some((n.to_string().trim_matches('"').to_owned(), a.value.clone())),
                _ => None,
            })
            .collect();
        let mut new_keys = Vec::with_capacity(keys.len());
        let mut touches_key = false;
        for (k, col) in &keys {
            match assigned.iter().find(|(c, _)| c == k) {
                Some((_, value)) => {
                    let text = value.to_string();
                    if assigned.iter().any(|(c, _)| c != k && text.contains(&format!("\"{c}\""))) {
                        return Err(refuse("changing a row's identifier to a value computed from other changed columns"));
                    }
                    touches_key = true;
                    new_keys.push(value.clone());
                }
                None => new_keys.push(col.clone()),
            }
        }
        let items = u.returning.clone().unwrap_or_default();
        let cond = u.selection.clone();
        // 1. The rows' keys (and new keys), locked; the statement's check applies to them.
        let locked = self.var();
        let mut key_items: Vec<SelectItem> = keys.iter().map(|(_, c)| sql::item(c.clone())).collect();
        let mut key_types = self.key_types(model);
        if touches_key {
            key_items.extend(new_keys.into_iter().map(sql::item));
            key_types.extend(self.key_types(model));
        }
        out.push(Step::Query {
            stmt: Stmt { ast: self.select(&table, key_items, cond, vec![], true), params: stmt.params.clone() },
            bind: Some(locked),
            types: key_types,
            check,
        });
        // 2. The update of those rows.
        let mut update = stmt.clone();
        if let Statement::Update(u) = &mut update.ast {
            u.returning = None;
            u.selection = Some(self.keys_in(model, locked, 0, &mut update.params)?);
        }
        out.push(Step::Execute { stmt: update, bind: None, check: Check::None });
        // 3. The rows as they are now, by their new keys.
        let mut params = stmt.params.clone();
        let first = if touches_key { keys.len() as u32 } else { 0 };
        let cond = self.keys_in(model, locked, first, &mut params)?;
        let order = keys.iter().map(|(_, c)| sql::order_expr(c.clone(), false, None)).collect();
        out.push(Step::Query { stmt: Stmt { ast: self.select(&table, items, Some(cond), order, false), params }, bind, types, check: Check::None });
        Ok(())
    }

    fn delete_returning(&mut self, stmt: Stmt, bind: Option<u32>, types: Vec<crate::schema::ScalarType>, check: Check, out: &mut Vec<Step>) -> Result<()> {
        let Statement::Delete(d) = &stmt.ast else { return Ok(()) };
        let tables = match &d.from {
            sql::ast::FromTable::WithFromKeyword(t) | sql::ast::FromTable::WithoutKeyword(t) => t,
        };
        let Some(sql::ast::TableFactor::Table { name: table, .. }) = tables.first().map(|t| &t.relation) else { return Err(refuse("this delete")) };
        let table = table.clone();
        let model = self.model_of(&table).ok_or_else(|| refuse("returning rows from this table"))?;
        let keys = self.key_columns(model);
        let items = d.returning.clone().unwrap_or_default();
        let cond = d.selection.clone();
        let locked = self.var();
        let key_items = keys.iter().map(|(_, c)| sql::item(c.clone())).collect();
        out.push(Step::Query {
            stmt: Stmt { ast: self.select(&table, key_items, cond, vec![], true), params: stmt.params.clone() },
            bind: Some(locked),
            types: self.key_types(model),
            check,
        });
        let mut params = stmt.params.clone();
        let cond = self.keys_in(model, locked, 0, &mut params)?;
        let order = keys.iter().map(|(_, c)| sql::order_expr(c.clone(), false, None)).collect();
        out.push(Step::Query { stmt: Stmt { ast: self.select(&table, items, Some(cond), order, false), params }, bind, types, check: Check::None });
        let mut delete = stmt.clone();
        if let Statement::Delete(d) = &mut delete.ast {
            d.returning = None;
            d.selection = Some(self.keys_in(model, locked, 0, &mut delete.params)?);
        }
        out.push(Step::Execute { stmt: unaliased_delete(delete), bind: None, check: Check::None });
        Ok(())
    }

    /// An update whose affected count is a result: counted by a locking read of the same rows.
    fn update_counted(&mut self, stmt: Stmt, bind: Option<u32>, check: Check, out: &mut Vec<Step>) -> Result<()> {
        let Statement::Update(u) = &stmt.ast else { return Ok(()) };
        let sql::ast::TableFactor::Table { name: table, .. } = &u.table.relation else { return Err(refuse("this update")) };
        let lock = self.select(&table.clone(), vec![sql::item(sql::int_lit(1))], u.selection.clone(), vec![], true);
        out.push(Step::Query { stmt: Stmt { ast: lock, params: stmt.params.clone() }, bind, types: vec![], check });
        out.push(Step::Execute { stmt, bind: None, check: Check::None });
        Ok(())
    }
}

fn is_default(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("DEFAULT"))
}

/// MariaDB takes no alias in a single-table DELETE: a table aliased by its own name loses it
/// (its columns are still qualified by that name).
fn unaliased_delete(mut stmt: Stmt) -> Stmt {
    if let Statement::Delete(d) = &mut stmt.ast {
        let tables = match &mut d.from {
            sql::ast::FromTable::WithFromKeyword(t) | sql::ast::FromTable::WithoutKeyword(t) => t,
        };
        for t in tables {
            if let sql::ast::TableFactor::Table { name, alias, .. } = &mut t.relation
                && let Some(a) = alias
                && sql::split_table_name(name).is_some_and(|(_, table)| table == a.name.value)
            {
                *alias = None;
            }
        }
    }
    stmt
}
