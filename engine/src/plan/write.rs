//! Writes: create (with nested create / connect / connectOrCreate / createMany), createMany,
//! update (atomic operations, list push, every nested write on every relation kind), updateMany,
//! upsert (one `INSERT … ON CONFLICT` when the `where` is exactly a unique constraint, else
//! read-then-write), delete, deleteMany, and the emulated referential actions of
//! `relationMode = "prisma"`. Each statement is built after the statements it depends on, so its
//! parameters can refer to their rows.

use super::shape::RowShape;
use super::{Check, Output, OutputKind, Plan, Planner, Step};
use crate::error::{Error, Result, codes};
use crate::query::{CreateInput, Filter, NestedOp, ScalarUpdate, Selection, SelectionItem, UpdateInput, WriteArgs, WriteOp};
use crate::schema::{
    Arity, DefaultValue, FieldId, ModelId, ReferentialAction, RelationField, RelationLink, RelationMode, ScalarField, ScalarType,
};
use crate::sql::{self, VarRef, ast::BinaryOperator, ast::Expr, ast::SelectItem, ast::Statement};
use crate::value::Value;

/// Rows a plan located or created: variable `var` holds the values of `fields`, in order.
#[derive(Clone, Debug)]
struct RowVar {
    var: u32,
    model: ModelId,
    fields: Vec<FieldId>,
}

impl RowVar {
    fn column(&self, f: FieldId) -> Option<u32> {
        self.fields.iter().position(|x| *x == f).map(|i| i as u32)
    }
}

/// Builds the steps of a write plan.
pub(super) struct Writer<'p, 's> {
    p: &'p mut Planner<'s>,
    blocks: Vec<Vec<Step>>,
    next_var: u32,
}

/// Maximum depth of emulated cascades through different relations.
const MAX_CASCADE: usize = 16;

impl<'p, 's> Writer<'p, 's> {
    pub fn new(p: &'p mut Planner<'s>) -> Self {
        Writer { p, blocks: vec![Vec::new()], next_var: 0 }
    }

    fn var(&mut self) -> u32 {
        let v = self.next_var;
        self.next_var += 1;
        v
    }

    fn emit(&mut self, step: Step) {
        if let Some(b) = self.blocks.last_mut() {
            b.push(step);
        }
    }

    fn finish_stmt(&mut self, ast: Statement) -> sql::Stmt {
        sql::Stmt { ast, params: std::mem::take(&mut self.p.params).values }
    }

    fn model_name(&self, m: ModelId) -> String {
        self.p.schema.model(m).name.clone()
    }

    fn scalar(&self, m: ModelId, f: FieldId) -> &'s ScalarField {
        let schema = self.p.schema;
        schema.model(m).field(f).as_scalar().unwrap_or_else(|| unreachable_scalar())
    }

    fn field_type(&self, m: ModelId, f: FieldId) -> ScalarType {
        self.p.schema.model(m).field(f).as_scalar().map_or(ScalarType::String, |s| s.ty.clone())
    }

    /// A reference to a located row's field.
    fn refer(&mut self, row: &RowVar, f: FieldId, all: bool) -> Result<Expr> {
        let column = row.column(f).ok_or_else(|| Error::internal("a located row lacks a field a later statement needs"))?;
        Ok(self.p.params.bind_ref(VarRef { var: row.var, column, all }))
    }

    /// `SELECT fields FROM model WHERE cond` into a new variable: rows a write reads (the target of
    /// a connect, say).
    fn lookup(&mut self, model: ModelId, fields: Vec<FieldId>, cond: impl FnOnce(&mut Planner<'s>, &str) -> Expr, check: Check, limit_one: bool) -> RowVar {
        self.lookup_limited(model, fields, cond, check, limit_one.then_some(1), false)
    }

    /// `SELECT fields FROM model WHERE cond FOR UPDATE`: rows a write is about to change (update,
    /// delete, or change the links of), locked until the transaction ends.
    fn lookup_to_write(&mut self, model: ModelId, fields: Vec<FieldId>, cond: impl FnOnce(&mut Planner<'s>, &str) -> Expr, check: Check, limit_one: bool) -> RowVar {
        self.lookup_limited(model, fields, cond, check, limit_one.then_some(1), true)
    }

    fn lookup_limited(
        &mut self,
        model: ModelId,
        fields: Vec<FieldId>,
        cond: impl FnOnce(&mut Planner<'s>, &str) -> Expr,
        check: Check,
        limit: Option<i64>,
        lock: bool,
    ) -> RowVar {
        let alias = self.p.alias('t');
        let projection = fields.iter().map(|f| sql::item(sql::col(&alias, self.p.column(model, *f)))).collect();
        let selection = cond(self.p, &alias);
        let limit = limit.map(|n| if n == 1 { sql::int_lit(1) } else { self.p.params.bind(Value::Int(n)) });
        let q = sql::SelectSpec {
            projection,
            from: vec![sql::from(self.p.table(model, &alias))],
            selection: Some(selection),
            limit,
            ..Default::default()
        }
        .into_query();
        let q = if lock { sql::for_update(q) } else { q };
        let var = self.var();
        let types = fields.iter().map(|f| self.field_type(model, *f)).collect();
        let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
        self.emit(Step::Query { stmt, bind: Some(var), types, check });
        RowVar { var, model, fields }
    }

    /// The fields later statements may need from a row of `model`: its identifier and every field
    /// a relation references.
    fn key_fields(&self, model: ModelId) -> Vec<FieldId> {
        let m = self.p.schema.model(model);
        let mut out: Vec<FieldId> = m.identifier().to_vec();
        for (_, _, r) in m.relation_fields() {
            let refs: &[FieldId] = match &r.link {
                RelationLink::BackReference { references, .. } => references,
                RelationLink::JoinTable { reference, .. } => std::slice::from_ref(reference),
                RelationLink::ForeignKey { fields, .. } => fields,
            };
            for f in refs {
                if !out.contains(f) {
                    out.push(*f);
                }
            }
        }
        out
    }

    /// `row.id = $ref` for every identifier field.
    fn is_row(&mut self, model: ModelId, alias: &str, row: &RowVar, all: bool) -> Result<Expr> {
        let ids = self.p.schema.model(model).identifier().to_vec();
        if all {
            let cols = ids.iter().map(|f| sql::col(alias, self.p.column(model, *f))).collect::<Vec<_>>();
            if ids.len() == 1 {
                let r = self.refer(row, ids[0], true)?;
                let col = cols.into_iter().next().unwrap_or_else(sql::null);
                if self.p.mysql() {
                    // The list parameter is spread into `?, ?, ...` when the statement is rendered.
                    return Ok(sql::in_list(col, vec![r]));
                }
                return Ok(sql::any(col, BinaryOperator::Eq, r));
            }
            if self.p.mysql() {
                // `(a, b) IN ((?, ?), ...)`: the rows' keys spread as tuples when rendered.
                let columns = ids
                    .iter()
                    .map(|f| row.column(*f).ok_or_else(|| Error::internal("a located row lacks a field a later statement needs")))
                    .collect::<Result<Vec<_>>>()?;
                let r = self.p.params.bind_rows(row.var, columns);
                return Ok(sql::in_list(Expr::Tuple(cols), vec![r]));
            }
            // Several rows with a compound identifier: zip the columns' lists.
            let mut lists = Vec::with_capacity(ids.len());
            for f in &ids {
                let r = self.refer(row, *f, true)?;
                let s = self.scalar(model, *f);
                lists.push(cast_for(r, &s.ty, s, true));
            }
            let q = sql::SelectSpec { projection: vec![sql::star()], from: vec![sql::from(sql::function_table("unnest", lists))], ..Default::default() }
                .into_query();
            return Ok(sql::in_subquery(cols, q, false));
        }
        let mut parts = Vec::with_capacity(ids.len());
        for f in ids {
            let r = self.refer(row, f, false)?;
            parts.push(sql::eq(sql::col(alias, self.p.column(model, f)), r));
        }
        Ok(sql::and(parts))
    }

    fn not_found(&self, what: &str) -> Error {
        Error::record_not_found(what)
    }

    /// `P2025` for a nested `update`/`delete` that finds no related row.
    fn related_not_found(&self, rf: &RelationField, op: &str) -> Error {
        let cause = format!("No '{}' record was found for a nested {op} on relation '{}'.", self.model_name(rf.related), rf.relation_name);
        Error::record_not_found(&cause).with_meta("relation_name", rf.relation_name.clone())
    }

    /// `P2017` for a nested `delete` on a to-many relation whose row is not the parent's.
    fn not_connected(&self, model: ModelId, rf: &RelationField) -> Error {
        Error::records_not_connected(&rf.relation_name, &self.model_name(model), &self.model_name(rf.related))
    }

    // ---------------------------------------------------------------- top level

    pub fn plan(mut self, args: &WriteArgs) -> Result<Plan> {
        let model = args.model;
        let output = match &args.op {
            WriteOp::Create(input) => self.top_create(model, input, args.selection.as_ref())?,
            WriteOp::CreateMany { rows, skip_duplicates } => self.top_create_many(model, rows, *skip_duplicates, args.selection.as_ref())?,
            WriteOp::Update { filter, data } => self.top_update(model, filter, data, args.selection.as_ref())?,
            WriteOp::UpdateMany { filter, data, limit } => self.top_update_many(model, filter.as_ref(), data, *limit, args.selection.as_ref())?,
            WriteOp::Upsert { filter, create, update } => self.top_upsert(model, filter, create, update, args.selection.as_ref())?,
            WriteOp::Delete { filter } => self.top_delete(model, filter, args.selection.as_ref())?,
            WriteOp::DeleteMany { filter, limit } => self.top_delete_many(model, filter.as_ref(), *limit)?,
        };
        let steps = self.blocks.pop().unwrap_or_default();
        Ok(Plan { steps, output })
    }

    /// Whether a selection reads only columns of the row itself (no relations, no counts).
    fn scalar_only(sel: Option<&Selection>) -> bool {
        sel.is_none_or(|s| s.items.iter().all(|i| matches!(i, SelectionItem::Scalar(_))))
    }

    /// The final read of written rows by their identifiers.
    fn read_back(&mut self, model: ModelId, selection: &Selection, row: &RowVar, many: bool) -> Result<Output> {
        let alias = self.p.alias('t');
        let (projection, shape) = self.p.typed_projection(model, &alias, selection);
        let cond = self.is_row(model, &alias, row, many)?;
        let order = if many {
            self.p.schema.model(model).identifier().iter().map(|f| sql::order_expr(sql::col(&alias, self.p.column(model, *f)), false, None)).collect()
        } else {
            vec![]
        };
        let q = sql::SelectSpec { projection, from: vec![sql::from(self.p.table(model, &alias))], selection: Some(cond), order_by: order, ..Default::default() }
            .into_query();
        let var = self.var();
        let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
        self.emit(Step::Query { stmt, bind: Some(var), types: vec![], check: Check::None });
        let kind = if many { OutputKind::Many { shape, reverse: false } } else { OutputKind::One { shape, or_throw: false } };
        Ok(Output { var, kind })
    }

    /// RETURNING items for a scalar-only selection, with its shape.
    fn returning(&mut self, model: ModelId, selection: &Selection) -> (Vec<SelectItem>, RowShape) {
        let table = self.p.schema.model(model).db_name.clone();
        let (items, shape) = self.p.typed_projection(model, &table, selection);
        (items, shape)
    }

    fn top_create(&mut self, model: ModelId, input: &CreateInput, selection: Option<&Selection>) -> Result<Output> {
        let selection = selection.cloned().unwrap_or_default();
        if input.relations.is_empty() && Self::scalar_only(Some(&selection)) {
            // One statement: INSERT ... RETURNING the selected columns.
            let values = self.row_values(model, input, &[])?;
            let (returning, shape) = self.returning(model, &selection);
            let var = self.var();
            let ast = self.insert_ast(model, vec![values], None, returning);
            let stmt = self.finish_stmt(ast);
            self.emit(Step::Query { stmt, bind: Some(var), types: vec![], check: Check::None });
            return Ok(Output { var, kind: OutputKind::One { shape, or_throw: false } });
        }
        let row = self.create_row(model, input, None)?;
        self.read_back(model, &selection, &row, false)
    }

    fn top_create_many(&mut self, model: ModelId, rows: &[CreateInput], skip_duplicates: bool, selection: Option<&Selection>) -> Result<Output> {
        let conflict = skip_duplicates.then_some(sql::Conflict::DoNothing);
        match selection {
            None => {
                if rows.is_empty() {
                    let var = self.var();
                    return Ok(Output { var, kind: OutputKind::Affected });
                }
                let values = rows.iter().map(|r| self.row_values(model, r, &[])).collect::<Result<Vec<_>>>()?;
                let var = self.var();
                let ast = self.insert_ast(model, values, conflict, vec![]);
                let stmt = self.finish_stmt(ast);
                self.emit(Step::Execute { stmt, bind: Some(var), check: Check::None });
                Ok(Output { var, kind: OutputKind::Affected })
            }
            Some(sel) => {
                if rows.is_empty() {
                    let var = self.var();
                    return Ok(Output { var, kind: OutputKind::Many { shape: RowShape { fields: vec![] }, reverse: false } });
                }
                let values = rows.iter().map(|r| self.row_values(model, r, &[])).collect::<Result<Vec<_>>>()?;
                if Self::scalar_only(Some(sel)) {
                    let (returning, shape) = self.returning(model, sel);
                    let var = self.var();
                    let ast = self.insert_ast(model, values, conflict, returning);
                    let stmt = self.finish_stmt(ast);
                    self.emit(Step::Query { stmt, bind: Some(var), types: vec![], check: Check::None });
                    return Ok(Output { var, kind: OutputKind::Many { shape, reverse: false } });
                }
                let keys = self.key_fields(model);
                let row = self.insert_rows(model, values, conflict, keys)?;
                self.read_back(model, sel, &row, true)
            }
        }
    }

    fn top_update(&mut self, model: ModelId, filter: &Filter, data: &UpdateInput, selection: Option<&Selection>) -> Result<Output> {
        let selection = selection.cloned().unwrap_or_default();
        let not_found = self.not_found("Record to update not found.");
        if data.relations.is_empty() && Self::scalar_only(Some(&selection)) && !self.update_needs_emulation(model, data) {
            let table = self.p.schema.model(model).db_name.clone();
            let assignments = self.assignments(model, &table, data)?;
            let (returning, shape) = self.returning(model, &selection);
            let cond = self.p.filter_expr(model, &table, filter);
            let var = self.var();
            let ast = if assignments.is_empty() {
                // Nothing to change: read (and lock) the row so a missing one still fails.
                let q = sql::SelectSpec { projection: returning, from: vec![sql::from(self.p.table_unaliased(model))], selection: Some(cond), ..Default::default() }
                    .into_query();
                Statement::Query(Box::new(sql::for_update(q)))
            } else {
                sql::update(self.p.table_unaliased(model), assignments, Some(cond), returning)
            };
            let stmt = self.finish_stmt(ast);
            self.emit(Step::Query { stmt, bind: Some(var), types: vec![], check: Check::NonEmpty(not_found) });
            return Ok(Output { var, kind: OutputKind::One { shape, or_throw: false } });
        }
        let keys = self.key_fields(model);
        let row = self.lookup_to_write(model, keys, |p, a| p.filter_expr(model, a, filter), Check::NonEmpty(not_found), true);
        let row = self.update_row(model, &row, data)?;
        self.read_back(model, &selection, &row, false)
    }

    fn top_update_many(&mut self, model: ModelId, filter: Option<&Filter>, data: &UpdateInput, limit: Option<i64>, selection: Option<&Selection>) -> Result<Output> {
        let table = self.p.schema.model(model).db_name.clone();
        if self.update_needs_emulation(model, data) {
            let keys = self.key_fields(model);
            let rows = self.lookup_to_write(model, keys, |p, a| filter.map_or(sql::bool_lit(true), |f| p.filter_expr(model, a, f)), Check::None, false);
            self.emulate_update(model, &rows, data, 0)?;
        }
        let assignments = self.assignments(model, &table, data)?;
        let mut cond = filter.map(|f| self.p.filter_expr(model, &table, f));
        if let Some(n) = limit {
            cond = Some(self.limited(model, &table, cond, n));
        }
        match selection {
            None => {
                let var = self.var();
                if assignments.is_empty() {
                    // Nothing to change: count (and lock) the rows the update would reach.
                    let rows = sql::SelectSpec { projection: vec![sql::item(sql::int_lit(1))], from: vec![sql::from(self.p.table_unaliased(model))], selection: cond, ..Default::default() }
                        .into_query();
                    let r = self.p.alias('r');
                    let q = sql::SelectSpec { projection: vec![sql::item(sql::count_star())], from: vec![sql::from(sql::derived(sql::for_update(rows), &r, false))], ..Default::default() }
                        .into_query();
                    let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
                    self.emit(Step::Query { stmt, bind: Some(var), types: vec![], check: Check::None });
                    return Ok(Output { var, kind: OutputKind::Count { fields: vec!["count".into()] } });
                }
                let ast = sql::update(self.p.table_unaliased(model), assignments, cond, vec![]);
                let stmt = self.finish_stmt(ast);
                self.emit(Step::Execute { stmt, bind: Some(var), check: Check::None });
                Ok(Output { var, kind: OutputKind::Affected })
            }
            Some(sel) => {
                let scalar = Self::scalar_only(Some(sel));
                let (returning, shape) = if scalar {
                    self.returning(model, sel)
                } else {
                    let keys = self.key_fields(model);
                    (keys.iter().map(|f| sql::item(sql::col(&table, self.p.column(model, *f)))).collect(), RowShape { fields: vec![] })
                };
                let var = self.var();
                let ast = if assignments.is_empty() {
                    // MySQL returns the rows in key order, as the rewritten updates do.
                    let order_by = if self.p.mysql() {
                        self.p.schema.model(model).identifier().iter().map(|f| sql::order_expr(sql::col(&table, self.p.column(model, *f)), false, None)).collect()
                    } else {
                        vec![]
                    };
                    let q = sql::SelectSpec { projection: returning, from: vec![sql::from(self.p.table_unaliased(model))], selection: cond, order_by, ..Default::default() }
                        .into_query();
                    Statement::Query(Box::new(sql::for_update(q)))
                } else {
                    sql::update(self.p.table_unaliased(model), assignments, cond, returning)
                };
                let stmt = self.finish_stmt(ast);
                let keys = self.key_fields(model);
                let types = keys.iter().map(|f| self.field_type(model, *f)).collect();
                self.emit(Step::Query { stmt, bind: Some(var), types, check: Check::None });
                if scalar {
                    return Ok(Output { var, kind: OutputKind::Many { shape, reverse: false } });
                }
                let row = RowVar { var, model, fields: keys };
                self.read_back(model, sel, &row, true)
            }
        }
    }

    /// `cond` restricted to at most `n` rows: `id IN (SELECT id ... WHERE cond LIMIT n)`.
    fn limited(&mut self, model: ModelId, table: &str, cond: Option<Expr>, n: i64) -> Expr {
        let ids = self.p.schema.model(model).identifier().to_vec();
        let inner_alias = self.p.alias('t');
        let inner_cond = cond.map(|c| rebase(c, table, &inner_alias));
        let limit = self.p.params.bind(Value::Int(n));
        let q = sql::SelectSpec {
            projection: ids.iter().map(|f| sql::item(sql::col(&inner_alias, self.p.column(model, *f)))).collect(),
            from: vec![sql::from(self.p.table(model, &inner_alias))],
            selection: inner_cond,
            limit: Some(limit),
            ..Default::default()
        }
        .into_query();
        // Locked like the rows it stands for, so the limit counts rows the write can reach.
        let q = sql::for_update(q);
        // MySQL takes no LIMIT in an IN subquery, nor the written table in one: a derived table
        // in between is materialized first.
        let q = if self.p.mysql() {
            let d = self.p.alias('d');
            sql::SelectSpec { projection: vec![sql::star()], from: vec![sql::from(sql::derived(q, &d, false))], ..Default::default() }.into_query()
        } else {
            q
        };
        sql::in_subquery(ids.iter().map(|f| sql::col(table, self.p.column(model, *f))).collect(), q, false)
    }

    fn top_upsert(&mut self, model: ModelId, filter: &Filter, create: &CreateInput, update: &UpdateInput, selection: Option<&Selection>) -> Result<Output> {
        let selection = selection.cloned().unwrap_or_default();
        if let Some(columns) = self.native_upsert_target(model, filter, create, update, &selection) {
            // INSERT ... ON CONFLICT (unique columns) DO UPDATE SET ... RETURNING.
            let table = self.p.schema.model(model).db_name.clone();
            let values = self.row_values(model, create, &[])?;
            let mut assignments = self.assignments(model, &table, update)?;
            if assignments.is_empty() {
                // DO UPDATE needs an assignment to return the existing row.
                let first = columns.first().cloned().unwrap_or_default();
                assignments.push((first.clone(), sql::col(&table, &first)));
            }
            let (returning, shape) = self.returning(model, &selection);
            let var = self.var();
            let ast = self.insert_ast(model, vec![values], Some(sql::Conflict::Update { columns, assignments }), returning);
            let stmt = self.finish_stmt(ast);
            // No row back means the conflicting row could not be updated (it is out of scope):
            // the unique constraint is what failed.
            let conflict = Error::new(codes::UNIQUE_VIOLATION, "Unique constraint failed");
            self.emit(Step::Query { stmt, bind: Some(var), types: vec![], check: Check::NonEmpty(conflict) });
            return Ok(Output { var, kind: OutputKind::One { shape, or_throw: false } });
        }
        // Read, then update or create, in the plan's transaction.
        let keys = self.key_fields(model);
        let found = self.lookup_to_write(model, keys.clone(), |p, a| p.filter_expr(model, a, filter), Check::None, true);
        let result_var = found.var;
        self.blocks.push(Vec::new());
        let updated = self.update_row(model, &found, update)?;
        if updated.var != result_var {
            self.copy_var(&updated, result_var)?;
        }
        let then = self.blocks.pop().unwrap_or_default();
        self.blocks.push(Vec::new());
        let created = self.create_row(model, create, None)?;
        self.copy_var(&created, result_var)?;
        let otherwise = self.blocks.pop().unwrap_or_default();
        self.emit(Step::IfRows { var: found.var, then, otherwise });
        let row = RowVar { var: result_var, model, fields: keys };
        self.read_back(model, &selection, &row, false)
    }

    /// Rebinds `row`'s identifier under `target` so both branches of an upsert leave the row in
    /// the same variable.
    fn copy_var(&mut self, row: &RowVar, target: u32) -> Result<()> {
        let mut projection = Vec::new();
        let keys = self.key_fields(row.model);
        for f in &keys {
            let r = self.refer(row, *f, false)?;
            let s = self.scalar(row.model, *f);
            projection.push(sql::item(if self.p.mysql() { r } else { cast_for(r, &s.ty, s, false) }));
        }
        let q = sql::SelectSpec { projection, ..Default::default() }.into_query();
        let types = keys.iter().map(|f| self.field_type(row.model, *f)).collect();
        let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
        self.emit(Step::Query { stmt, bind: Some(target), types, check: Check::None });
        Ok(())
    }

    /// The unique columns of a native upsert, when the `where` is exactly one unique constraint,
    /// `create` gives the same values for it, and neither side has nested writes.
    fn native_upsert_target(&self, model: ModelId, filter: &Filter, create: &CreateInput, update: &UpdateInput, selection: &Selection) -> Option<Vec<String>> {
        if !create.relations.is_empty() || !update.relations.is_empty() || !Self::scalar_only(Some(selection)) || self.p.mysql() {
            return None;
        }
        if self.update_needs_emulation(model, update) {
            return None;
        }
        let pairs = equality_pairs(filter)?;
        let m = self.p.schema.model(model);
        let mut fields: Vec<FieldId> = pairs.iter().map(|(f, _)| *f).collect();
        fields.sort();
        let candidates = m.primary_key.iter().map(|pk| pk.fields.clone()).chain(m.uniques.iter().map(|u| u.fields.clone()));
        let unique = candidates
            .map(|mut c| {
                c.sort();
                c
            })
            .any(|c| c == fields);
        if !unique {
            return None;
        }
        for (f, v) in &pairs {
            let given = create.scalars.iter().find(|(cf, _)| cf == f).map(|(_, cv)| cv);
            if given != Some(v) {
                return None;
            }
        }
        Some(pairs.iter().map(|(f, _)| self.p.column(model, *f).to_owned()).collect())
    }

    fn top_delete(&mut self, model: ModelId, filter: &Filter, selection: Option<&Selection>) -> Result<Output> {
        let selection = selection.cloned().unwrap_or_default();
        let not_found = self.not_found("Record to delete does not exist.");
        let emulate = self.p.schema.relation_mode() == RelationMode::Prisma || self.has_join_tables(model);
        if !emulate && Self::scalar_only(Some(&selection)) {
            let table = self.p.schema.model(model).db_name.clone();
            let (returning, shape) = self.returning(model, &selection);
            let cond = self.p.filter_expr(model, &table, filter);
            let var = self.var();
            let ast = sql::delete(self.p.table_unaliased(model), Some(cond), returning);
            let stmt = self.finish_stmt(ast);
            self.emit(Step::Query { stmt, bind: Some(var), types: vec![], check: Check::NonEmpty(not_found) });
            return Ok(Output { var, kind: OutputKind::One { shape, or_throw: false } });
        }
        let keys = self.key_fields(model);
        let row = self.lookup_to_write(model, keys, |p, a| p.filter_expr(model, a, filter), Check::NonEmpty(not_found), true);
        let output = self.read_back(model, &selection, &row, false)?;
        self.delete_rows(model, &row, false, 0)?;
        Ok(output)
    }

    fn top_delete_many(&mut self, model: ModelId, filter: Option<&Filter>, limit: Option<i64>) -> Result<Output> {
        let emulate = self.p.schema.relation_mode() == RelationMode::Prisma || self.has_join_tables(model);
        if emulate {
            let keys = self.key_fields(model);
            let rows = self.lookup_limited(
                model,
                keys,
                |p, a| filter.map_or(sql::bool_lit(true), |f| p.filter_expr(model, a, f)),
                Check::None,
                limit,
                true,
            );
            let count = self.delete_rows(model, &rows, true, 0)?;
            return Ok(Output { var: count, kind: OutputKind::Affected });
        }
        let table = self.p.schema.model(model).db_name.clone();
        let mut cond = filter.map(|f| self.p.filter_expr(model, &table, f));
        if let Some(n) = limit {
            cond = Some(self.limited(model, &table, cond, n));
        }
        let var = self.var();
        let ast = sql::delete(self.p.table_unaliased(model), cond, vec![]);
        let stmt = self.finish_stmt(ast);
        self.emit(Step::Execute { stmt, bind: Some(var), check: Check::None });
        Ok(Output { var, kind: OutputKind::Affected })
    }

    fn has_join_tables(&self, model: ModelId) -> bool {
        self.p.schema.model(model).relation_fields().any(|(_, _, r)| matches!(r.link, RelationLink::JoinTable { .. }))
            && self.p.schema.relation_mode() == RelationMode::Prisma
    }

    // ---------------------------------------------------------------- creates

    /// The column values of one new row: given scalars, foreign keys from `links`, and the
    /// defaults the engine generates. `links` pairs foreign key fields with their values.
    fn row_values(&mut self, model: ModelId, input: &CreateInput, links: &[(FieldId, Expr)]) -> Result<Vec<(String, Expr)>> {
        let m = self.p.schema.model(model);
        let mut out: Vec<(String, Expr)> = Vec::with_capacity(input.scalars.len() + links.len() + 2);
        for (f, v) in &input.scalars {
            let s = self.scalar(model, *f);
            let e = self.bind_value(s, v.clone());
            out.push((s.db_name.clone(), e));
        }
        for (f, e) in links {
            let col = self.p.column(model, *f).to_owned();
            out.retain(|(c, _)| *c != col);
            out.push((col, e.clone()));
        }
        for (_, _, s) in m.scalar_fields() {
            if out.iter().any(|(c, _)| *c == s.db_name) {
                continue;
            }
            let generated = match &s.default {
                Some(DefaultValue::Uuid(v)) => Some(sql::Generator::Uuid(*v)),
                Some(DefaultValue::Cuid(v)) => Some(sql::Generator::Cuid(*v)),
                Some(DefaultValue::Nanoid(n)) => Some(sql::Generator::Nanoid(n.unwrap_or(21))),
                Some(DefaultValue::Ulid) => Some(sql::Generator::Ulid),
                _ => None,
            };
            if let Some(g) = generated {
                out.push((s.db_name.clone(), self.p.params.bind_generated(g)));
            } else if s.updated_at || matches!(s.default, Some(DefaultValue::Now)) {
                out.push((s.db_name.clone(), now_expr(s, self.p.mysql())));
            }
        }
        Ok(out)
    }

    fn bind_value(&mut self, s: &ScalarField, v: Value) -> Expr {
        if self.p.mysql() {
            // MySQL takes JSON as text; scalar lists are JSON arrays.
            let v = match v {
                Value::List(_) => Value::Json(v.to_json().to_string()),
                other => other,
            };
            return self.p.params.bind(v);
        }
        let is_json = s.ty == ScalarType::Json;
        let null = v.is_null();
        let e = self.p.params.bind(v);
        if is_json && !null { sql::cast(e, "jsonb") } else { e }
    }

    fn insert_ast(&mut self, model: ModelId, rows: Vec<Vec<(String, Expr)>>, conflict: Option<sql::Conflict>, returning: Vec<SelectItem>) -> Statement {
        // Union of the columns every row sets; rows that do not set one get DEFAULT.
        let mut columns: Vec<String> = Vec::new();
        for row in &rows {
            for (c, _) in row {
                if !columns.contains(c) {
                    columns.push(c.clone());
                }
            }
        }
        let values: Vec<Vec<Expr>> = rows
            .into_iter()
            .map(|row| columns.iter().map(|c| row.iter().find(|(rc, _)| rc == c).map_or_else(sql::default_kw, |(_, e)| e.clone())).collect())
            .collect();
        let name = sql::table_name(self.p.namespace, &self.p.schema.model(model).db_name);
        if columns.is_empty() {
            // Every column defaulted: one DEFAULT for the first column.
            let first = self.p.schema.model(model).scalar_fields().next().map(|(_, _, s)| s.db_name.clone()).unwrap_or_default();
            let n = values.len().max(1);
            return sql::insert(name, vec![first], vec![vec![sql::default_kw()]; n], conflict, returning);
        }
        sql::insert(name, columns, values, conflict, returning)
    }

    /// INSERT rows and keep `keys` of each in a new variable.
    fn insert_rows(&mut self, model: ModelId, rows: Vec<Vec<(String, Expr)>>, conflict: Option<sql::Conflict>, keys: Vec<FieldId>) -> Result<RowVar> {
        let table = self.p.schema.model(model).db_name.clone();
        let returning = keys.iter().map(|f| sql::item(sql::col(&table, self.p.column(model, *f)))).collect();
        let var = self.var();
        let ast = self.insert_ast(model, rows, conflict, returning);
        let types = keys.iter().map(|f| self.field_type(model, *f)).collect();
        let stmt = self.finish_stmt(ast);
        self.emit(Step::Query { stmt, bind: Some(var), types, check: Check::None });
        Ok(RowVar { var, model, fields: keys })
    }

    /// Creates one row with its nested writes. `parent` links it to the row that created it
    /// (the foreign key this row holds, filled from the parent's variable).
    fn create_row(&mut self, model: ModelId, input: &CreateInput, parent: Option<(FieldId, &RowVar)>) -> Result<RowVar> {
        let schema = self.p.schema;
        let m = schema.model(model);
        // 1. Rows this one points to (it holds their foreign key): resolve them first.
        let mut resolved: Vec<(FieldId, RowVar)> = Vec::new();
        for (rid, ops) in &input.relations {
            let rf = relation(m.field(*rid).as_relation())?;
            if !matches!(rf.link, RelationLink::ForeignKey { .. }) {
                continue;
            }
            for op in ops {
                let target = self.resolve_target(rf, op, m.field(*rid).name.as_str(), model)?;
                resolved.push((*rid, target));
            }
        }
        let mut links: Vec<(FieldId, Expr)> = Vec::new();
        for (rid, target) in &resolved {
            let rf = relation(m.field(*rid).as_relation())?;
            if let RelationLink::ForeignKey { fields, references } = &rf.link {
                for (f, r) in fields.iter().zip(references) {
                    let e = self.refer(target, *r, false)?;
                    links.push((*f, e));
                }
            }
        }
        if let Some((rid, parent_row)) = parent {
            let rf = relation(m.field(rid).as_relation())?;
            if let RelationLink::ForeignKey { fields, references } = &rf.link {
                for (f, r) in fields.iter().zip(references) {
                    let e = self.refer(parent_row, *r, false)?;
                    links.push((*f, e));
                }
            }
        }
        // 2. The row itself.
        let values = self.row_values(model, input, &links)?;
        let keys = self.key_fields(model);
        let row = self.insert_rows(model, vec![values], None, keys)?;
        // 3. Rows that point to this one, and many-to-many links.
        for (rid, ops) in &input.relations {
            let rf = relation(m.field(*rid).as_relation())?;
            if matches!(rf.link, RelationLink::ForeignKey { .. }) {
                continue;
            }
            let name = m.field(*rid).name.clone();
            if self.creates_in_one_insert(model, *rid, rf, ops) {
                self.create_children(rf, &row, ops)?;
                continue;
            }
            for op in ops {
                self.nested(model, &row, *rid, rf, &name, op)?;
            }
        }
        Ok(row)
    }

    /// Whether the nested writes of a to-many back-reference relation are two or more plain
    /// `create`s (no nested writes of their own) that one multi-row INSERT can make on
    /// PostgreSQL: no row needs another statement's result, and nothing reads their keys.
    fn creates_in_one_insert(&self, model: ModelId, rid: FieldId, rf: &RelationField, ops: &[NestedOp]) -> bool {
        !self.p.mysql()
            && ops.len() > 1
            && self.p.schema.model(model).field(rid).is_list()
            && matches!(rf.link, RelationLink::BackReference { .. })
            && rf.back.is_some()
            && ops.iter().all(|op| matches!(op, NestedOp::Create(input) if input.relations.is_empty()))
    }

    /// The plain nested `create`s of a to-many back-reference relation as one INSERT, rows in
    /// the order given (as one INSERT per row would write them).
    fn create_children(&mut self, rf: &RelationField, parent: &RowVar, ops: &[NestedOp]) -> Result<()> {
        let related = rf.related;
        let back = rf.back.ok_or_else(|| Error::internal("relation without a back field"))?;
        let back_rf = relation(self.p.schema.model(related).field(back).as_relation())?;
        let RelationLink::ForeignKey { fields, references } = &back_rf.link else {
            return Err(Error::internal("a back-reference relation whose back field holds no foreign key"));
        };
        let mut values = Vec::with_capacity(ops.len());
        for op in ops {
            let NestedOp::Create(input) = op else {
                return Err(Error::internal("a nested write that is not a create in a multi-row create"));
            };
            let mut links = Vec::new();
            for (f, r) in fields.iter().zip(references) {
                links.push((*f, self.refer(parent, *r, false)?));
            }
            values.push(self.row_values(related, input, &links)?);
        }
        let ast = self.insert_ast(related, values, None, vec![]);
        let stmt = self.finish_stmt(ast);
        self.emit(Step::Execute { stmt, bind: None, check: Check::None });
        Ok(())
    }

    /// Locates (or creates) the row a foreign-key-holding relation write points to.
    fn resolve_target(&mut self, rf: &RelationField, op: &NestedOp, field_name: &str, from: ModelId) -> Result<RowVar> {
        let related = rf.related;
        let keys = self.key_fields(related);
        match op {
            NestedOp::Create(input) => self.create_row(related, input, None),
            NestedOp::Connect(filter) => {
                let e = self.connect_not_found(related, from, field_name);
                Ok(self.lookup(related, keys, |p, a| p.filter_expr(related, a, filter), Check::NonEmpty(e), true))
            }
            NestedOp::ConnectOrCreate { filter, create } => {
                let found = self.lookup(related, keys, |p, a| p.filter_expr(related, a, filter), Check::None, true);
                self.blocks.push(Vec::new());
                let then = self.blocks.pop().unwrap_or_default();
                self.blocks.push(Vec::new());
                let created = self.create_row(related, create, None)?;
                self.copy_var(&created, found.var)?;
                let otherwise = self.blocks.pop().unwrap_or_default();
                self.emit(Step::IfRows { var: found.var, then, otherwise });
                Ok(found)
            }
            _ => Err(Error::new(codes::INVALID_VALUE, format!("this nested write is not available on relation {field_name} in a create"))),
        }
    }

    fn connect_not_found(&self, related: ModelId, from: ModelId, field: &str) -> Error {
        let relation = self.p.schema.model(from).find_field(field).and_then(|f| self.p.schema.model(from).field(f).as_relation()).map(|r| r.relation_name.clone());
        let relation = relation.unwrap_or_else(|| format!("{}.{field}", self.model_name(from)));
        let cause = format!("No '{}' record was found for a nested connect on relation '{relation}'.", self.model_name(related));
        Error::record_not_found(&cause).with_meta("relation_name", relation)
    }

    // ---------------------------------------------------------------- updates

    /// `SET` assignments of an update's scalars (plus `@updatedAt`), on `table` (the alias or
    /// table name the statement uses).
    fn assignments(&mut self, model: ModelId, table: &str, data: &UpdateInput) -> Result<Vec<(String, Expr)>> {
        let mut out = Vec::with_capacity(data.scalars.len() + 1);
        for (f, u) in &data.scalars {
            let s = self.scalar(model, *f);
            let col = sql::col(table, &s.db_name);
            let e = match u {
                ScalarUpdate::Set(v) => self.bind_value(s, v.clone()),
                ScalarUpdate::Increment(v) => sql::binop(col, BinaryOperator::Plus, self.p.params.bind(v.clone())),
                ScalarUpdate::Decrement(v) => sql::binop(col, BinaryOperator::Minus, self.p.params.bind(v.clone())),
                ScalarUpdate::Multiply(v) => sql::binop(col, BinaryOperator::Multiply, self.p.params.bind(v.clone())),
                ScalarUpdate::Divide(v) => {
                    // Integer fields divide like integers (Prisma), others exactly.
                    sql::binop(col, BinaryOperator::Divide, self.p.params.bind(v.clone()))
                }
                ScalarUpdate::Push(v) if self.p.mysql() => {
                    let items = match v {
                        Value::List(_) => v.clone(),
                        one => Value::List(vec![one.clone()]),
                    };
                    let p = self.p.params.bind(Value::Json(items.to_json().to_string()));
                    sql::func("JSON_MERGE_PRESERVE", vec![sql::func("COALESCE", vec![col, sql::func("JSON_ARRAY", vec![])]), p])
                }
                ScalarUpdate::Push(v) => sql::func("array_cat", vec![col, self.p.params.bind(v.clone())]),
            };
            out.push((s.db_name.clone(), e));
        }
        let touched = !out.is_empty() || !data.relations.is_empty();
        if touched {
            for (_, _, s) in self.p.schema.model(model).scalar_fields() {
                if s.updated_at && !out.iter().any(|(c, _)| *c == s.db_name) {
                    out.push((s.db_name.clone(), now_expr(s, self.p.mysql())));
                }
            }
        }
        Ok(out)
    }

    /// Updates the located row and runs the nested writes of `data`. Returns the row's variable
    /// after the update (a new one when an identifier may have changed).
    fn update_row(&mut self, model: ModelId, row: &RowVar, data: &UpdateInput) -> Result<RowVar> {
        let schema = self.p.schema;
        let m = schema.model(model);
        if self.update_needs_emulation(model, data) {
            self.emulate_update(model, row, data, 0)?;
        }
        let mut current = row.clone();
        let scalar_data = UpdateInput { scalars: data.scalars.clone(), relations: vec![] };
        let has_scalars = !data.scalars.is_empty();
        let has_updated_at = m.scalar_fields().any(|(_, _, s)| s.updated_at);
        if has_scalars || (has_updated_at && !data.relations.is_empty()) {
            let table = m.db_name.clone();
            let mut assignments = self.assignments(model, &table, &scalar_data)?;
            if !has_scalars {
                assignments = self.assignments(model, &table, &UpdateInput { scalars: vec![], relations: data.relations.clone() })?;
            }
            if !assignments.is_empty() {
                let cond = self.is_row(model, &table, row, false)?;
                let keys = self.key_fields(model);
                let returning = keys.iter().map(|f| sql::item(sql::col(&table, self.p.column(model, *f)))).collect();
                let var = self.var();
                let types = keys.iter().map(|f| self.field_type(model, *f)).collect();
                let ast = sql::update(self.p.table_unaliased(model), assignments, Some(cond), returning);
                let stmt = self.finish_stmt(ast);
                self.emit(Step::Query { stmt, bind: Some(var), types, check: Check::None });
                current = RowVar { var, model, fields: keys };
            }
        }
        for (rid, ops) in &data.relations {
            let rf = relation(m.field(*rid).as_relation())?;
            let name = m.field(*rid).name.clone();
            for op in ops {
                self.nested(model, &current, *rid, rf, &name, op)?;
            }
        }
        Ok(current)
    }

    /// One nested write on relation `rid` of the located parent row.
    fn nested(&mut self, model: ModelId, parent: &RowVar, rid: FieldId, rf: &RelationField, name: &str, op: &NestedOp) -> Result<()> {
        match &rf.link {
            RelationLink::ForeignKey { fields, references } => self.nested_owner(model, parent, rf, fields, references, name, op),
            RelationLink::BackReference { fields, references } => self.nested_back(model, parent, rid, rf, fields, references, name, op),
            RelationLink::JoinTable { table, column, reference, other_reference } => {
                let join = JoinInfo { table: table.clone(), column: column.name(), other: column.other().name(), reference: *reference, other_reference: *other_reference };
                self.nested_join(model, parent, rf, &join, name, op)
            }
        }
    }

    /// The parent holds the foreign key (to-one).
    #[allow(clippy::too_many_arguments)]
    fn nested_owner(&mut self, model: ModelId, parent: &RowVar, rf: &RelationField, fields: &[FieldId], references: &[FieldId], name: &str, op: &NestedOp) -> Result<()> {
        let related = rf.related;
        let keys = self.key_fields(related);
        // The related row the parent points to now.
        let linked = |w: &mut Self, extra: Option<&Filter>, check: Check, lock: bool| -> Result<RowVar> {
            let p_alias = w.p.alias('t');
            let parent_cond = w.is_row(model, &p_alias, parent, false)?;
            let fk_cols: Vec<Expr> = fields.iter().map(|f| sql::col(&p_alias, w.p.column(model, *f))).collect();
            let sub = sql::SelectSpec {
                projection: fk_cols.into_iter().map(sql::item).collect(),
                from: vec![sql::from(w.p.table(model, &p_alias))],
                selection: Some(parent_cond),
                ..Default::default()
            }
            .into_query();
            let refs: Vec<FieldId> = references.to_vec();
            Ok(w.lookup_limited(
                related,
                keys.clone(),
                |p, a| {
                    let left = refs.iter().map(|r| sql::col(a, p.column(related, *r))).collect();
                    let mut conds = vec![sql::in_subquery(left, sub, false)];
                    if let Some(f) = extra {
                        conds.push(p.filter_expr(related, a, f));
                    }
                    sql::and(conds)
                },
                check,
                Some(1),
                lock,
            ))
        };
        match op {
            NestedOp::Create(_) | NestedOp::Connect(_) | NestedOp::ConnectOrCreate { .. } => {
                let target = self.resolve_target(rf, op, name, model)?;
                self.set_foreign_key(model, parent, fields, references, Some(&target))
            }
            NestedOp::Disconnect(filter) => {
                self.require_optional(model, related, fields, &rf.relation_name)?;
                match filter {
                    None => self.set_foreign_key(model, parent, fields, references, None),
                    Some(f) => {
                        let found = linked(self, Some(f), Check::None, false)?;
                        self.blocks.push(Vec::new());
                        self.set_foreign_key(model, parent, fields, references, None)?;
                        let then = self.blocks.pop().unwrap_or_default();
                        self.emit(Step::IfRows { var: found.var, then, otherwise: vec![] });
                        Ok(())
                    }
                }
            }
            NestedOp::Delete(filter) => {
                let e = self.related_not_found(rf, "delete");
                let target = linked(self, filter.as_ref(), Check::NonEmpty(e), true)?;
                if self.p.schema.model(model).field(fields[0]).arity != Arity::Required {
                    self.set_foreign_key(model, parent, fields, references, None)?;
                }
                self.delete_rows(related, &target, false, 0).map(|_| ())
            }
            NestedOp::Update { filter, data } => {
                let e = self.related_not_found(rf, "update");
                let target = linked(self, filter.as_ref(), Check::NonEmpty(e), true)?;
                self.update_row(related, &target, data).map(|_| ())
            }
            NestedOp::Upsert { filter, create, update } => {
                let found = linked(self, filter.as_ref(), Check::None, true)?;
                self.blocks.push(Vec::new());
                self.update_row(related, &found, update)?;
                let then = self.blocks.pop().unwrap_or_default();
                self.blocks.push(Vec::new());
                let created = self.create_row(related, create, None)?;
                self.set_foreign_key(model, parent, fields, references, Some(&created))?;
                let otherwise = self.blocks.pop().unwrap_or_default();
                self.emit(Step::IfRows { var: found.var, then, otherwise });
                Ok(())
            }
            _ => Err(Error::new(codes::INVALID_VALUE, format!("this nested write is not available on relation {name}"))),
        }
    }

    /// Refuses to clear the foreign key `fields` of `model` (towards `other`) when it is required.
    fn require_optional(&self, model: ModelId, other: ModelId, fields: &[FieldId], relation: &str) -> Result<()> {
        let m = self.p.schema.model(model);
        if fields.iter().any(|f| m.field(*f).arity == Arity::Required) {
            return Err(Error::relation_violation(relation, &m.name, &self.model_name(other)));
        }
        Ok(())
    }

    /// `UPDATE parent SET fk = target.ref` (or NULL).
    fn set_foreign_key(&mut self, model: ModelId, parent: &RowVar, fields: &[FieldId], references: &[FieldId], target: Option<&RowVar>) -> Result<()> {
        let table = self.p.schema.model(model).db_name.clone();
        let mut assignments = Vec::with_capacity(fields.len());
        for (f, r) in fields.iter().zip(references) {
            let e = match target {
                Some(t) => self.refer(t, *r, false)?,
                None => sql::null(),
            };
            assignments.push((self.p.column(model, *f).to_owned(), e));
        }
        let cond = self.is_row(model, &table, parent, false)?;
        let ast = sql::update(self.p.table_unaliased(model), assignments, Some(cond), vec![]);
        let stmt = self.finish_stmt(ast);
        self.emit(Step::Execute { stmt, bind: None, check: Check::None });
        Ok(())
    }

    /// The related model holds the foreign key (to-many, or the back side of a one-to-one).
    #[allow(clippy::too_many_arguments)]
    fn nested_back(&mut self, model: ModelId, parent: &RowVar, rid: FieldId, rf: &RelationField, fields: &[FieldId], references: &[FieldId], name: &str, op: &NestedOp) -> Result<()> {
        let related = rf.related;
        let many = self.p.schema.model(model).field(rid).is_list();
        let back = rf.back.ok_or_else(|| Error::internal("relation without a back field"))?;
        let keys = self.key_fields(related);
        // `child.fk = parent.ref` with parameters referring to the parent row.
        let link = |w: &mut Self, alias: &str| -> Result<Expr> {
            let mut parts = Vec::new();
            for (f, r) in fields.iter().zip(references) {
                let e = w.refer(parent, *r, false)?;
                parts.push(sql::eq(sql::col(alias, w.p.column(related, *f)), e));
            }
            Ok(sql::and(parts))
        };
        let set_fk = |w: &mut Self, cond: Expr, null: bool, check: Check| -> Result<u32> {
            let mut assignments = Vec::new();
            for (f, r) in fields.iter().zip(references) {
                let e = if null { sql::null() } else { w.refer(parent, *r, false)? };
                assignments.push((w.p.column(related, *f).to_owned(), e));
            }
            let table = w.p.schema.model(related).db_name.clone();
            let keys = w.key_fields(related);
            let returning = keys.iter().map(|f| sql::item(sql::col(&table, w.p.column(related, *f)))).collect();
            let var = w.var();
            let types = keys.iter().map(|f| w.field_type(related, *f)).collect();
            let ast = sql::update(w.p.table_unaliased(related), assignments, Some(cond), returning);
            let stmt = w.finish_stmt(ast);
            w.emit(Step::Query { stmt, bind: Some(var), types, check });
            Ok(var)
        };
        let table = self.p.schema.model(related).db_name.clone();
        match op {
            NestedOp::Create(input) => {
                if !many {
                    self.detach_existing(related, &table, fields, &link, &rf.relation_name, model, None)?;
                }
                self.create_row(related, input, Some((back, parent))).map(|_| ())
            }
            NestedOp::CreateMany { rows, skip_duplicates } => {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut values = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut links = Vec::new();
                    for (f, rf_) in fields.iter().zip(references) {
                        links.push((*f, self.refer(parent, *rf_, false)?));
                    }
                    values.push(self.row_values(related, r, &links)?);
                }
                let ast = self.insert_ast(related, values, skip_duplicates.then_some(sql::Conflict::DoNothing), vec![]);
                let stmt = self.finish_stmt(ast);
                self.emit(Step::Execute { stmt, bind: None, check: Check::None });
                Ok(())
            }
            NestedOp::Connect(filter) => {
                if !many {
                    self.detach_existing(related, &table, fields, &link, &rf.relation_name, model, Some(filter))?;
                }
                let e = self.connect_not_found(related, model, name);
                let cond = self.p.filter_expr(related, &table, filter);
                set_fk(self, cond, false, Check::NonEmpty(e)).map(|_| ())
            }
            NestedOp::ConnectOrCreate { filter, create } => {
                if !many {
                    self.detach_existing(related, &table, fields, &link, &rf.relation_name, model, Some(filter))?;
                }
                let cond = self.p.filter_expr(related, &table, filter);
                let var = set_fk(self, cond, false, Check::None)?;
                self.blocks.push(Vec::new());
                self.create_row(related, create, Some((back, parent)))?;
                let otherwise = self.blocks.pop().unwrap_or_default();
                self.emit(Step::IfRows { var, then: vec![], otherwise });
                Ok(())
            }
            NestedOp::Set(filters) => {
                self.require_optional(related, model, fields, &rf.relation_name)?;
                let mut keep = Vec::new();
                for f in filters {
                    keep.push(self.p.filter_expr(related, &table, f));
                }
                let mut cond = vec![link(self, &table)?];
                if !keep.is_empty() {
                    cond.push(sql::not(sql::or(keep)));
                }
                set_fk(self, sql::and(cond), true, Check::None)?;
                for f in filters {
                    let e = self.connect_not_found(related, model, name);
                    let c = self.p.filter_expr(related, &table, f);
                    set_fk(self, c, false, Check::NonEmpty(e))?;
                }
                Ok(())
            }
            NestedOp::Disconnect(filter) => {
                self.require_optional(related, model, fields, &rf.relation_name)?;
                let mut cond = vec![link(self, &table)?];
                if let Some(f) = filter {
                    cond.push(self.p.filter_expr(related, &table, f));
                }
                set_fk(self, sql::and(cond), true, Check::None).map(|_| ())
            }
            NestedOp::Delete(filter) => {
                // As Prisma: a to-many child that is not the parent's is "not connected" (P2017);
                // the one row of a to-one side that is missing is "not found" (P2025).
                let e = if many { self.not_connected(model, rf) } else { self.related_not_found(rf, "delete") };
                let target = self.lookup_linked(related, keys, &link, filter.as_ref(), Check::NonEmpty(e), true)?;
                self.delete_rows(related, &target, false, 0).map(|_| ())
            }
            NestedOp::Update { filter, data } => {
                let e = self.related_not_found(rf, "update");
                let target = self.lookup_linked(related, keys, &link, filter.as_ref(), Check::NonEmpty(e), true)?;
                self.update_row(related, &target, data).map(|_| ())
            }
            NestedOp::UpdateMany { filter, data } => {
                if self.update_needs_emulation(related, data) {
                    let rows = self.lookup_linked(related, keys, &link, Some(filter), Check::None, true)?;
                    self.emulate_update(related, &rows, data, 0)?;
                }
                let assignments = self.assignments(related, &table, data)?;
                if assignments.is_empty() {
                    return Ok(());
                }
                let cond = sql::and(vec![link(self, &table)?, self.p.filter_expr(related, &table, filter)]);
                let ast = sql::update(self.p.table_unaliased(related), assignments, Some(cond), vec![]);
                let stmt = self.finish_stmt(ast);
                self.emit(Step::Execute { stmt, bind: None, check: Check::None });
                Ok(())
            }
            NestedOp::DeleteMany(filter) => {
                let rows = self.lookup_linked(related, keys, &link, Some(filter), Check::None, true)?;
                self.delete_rows(related, &rows, true, 0).map(|_| ())
            }
            NestedOp::Upsert { filter, create, update } => {
                let found = self.lookup_linked(related, keys, &link, filter.as_ref(), Check::None, true)?;
                self.blocks.push(Vec::new());
                self.update_row(related, &found, update)?;
                let then = self.blocks.pop().unwrap_or_default();
                self.blocks.push(Vec::new());
                if !many {
                    self.detach_existing(related, &table, fields, &link, &rf.relation_name, model, None)?;
                }
                self.create_row(related, create, Some((back, parent)))?;
                let otherwise = self.blocks.pop().unwrap_or_default();
                self.emit(Step::IfRows { var: found.var, then, otherwise });
                Ok(())
            }
        }
    }

    /// Rows of `related` linked to the parent (and matching `filter`) into a new variable.
    fn lookup_linked(
        &mut self,
        related: ModelId,
        keys: Vec<FieldId>,
        link: &dyn Fn(&mut Self, &str) -> Result<Expr>,
        filter: Option<&Filter>,
        check: Check,
        lock: bool,
    ) -> Result<RowVar> {
        let alias = self.p.alias('t');
        let mut conds = vec![link(self, &alias)?];
        if let Some(f) = filter {
            conds.push(self.p.filter_expr(related, &alias, f));
        }
        let projection = keys.iter().map(|f| sql::item(sql::col(&alias, self.p.column(related, *f)))).collect();
        let q = sql::SelectSpec { projection, from: vec![sql::from(self.p.table(related, &alias))], selection: Some(sql::and(conds)), ..Default::default() }
            .into_query();
        let q = if lock { sql::for_update(q) } else { q };
        let var = self.var();
        let types = keys.iter().map(|f| self.field_type(related, *f)).collect();
        let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
        self.emit(Step::Query { stmt, bind: Some(var), types, check });
        Ok(RowVar { var, model: related, fields: keys })
    }

    /// Before a one-to-one back side gets a new row, the row linked now is detached (its foreign
    /// key set to NULL), or, when that key is required, the change is refused.
    #[allow(clippy::too_many_arguments)]
    fn detach_existing(
        &mut self,
        related: ModelId,
        table: &str,
        fields: &[FieldId],
        link: &dyn Fn(&mut Self, &str) -> Result<Expr>,
        relation: &str,
        parent: ModelId,
        keep: Option<&Filter>,
    ) -> Result<()> {
        let mut cond = vec![link(self, table)?];
        if let Some(f) = keep {
            cond.push(sql::not(self.p.filter_expr(related, table, f)));
        }
        let required = fields.iter().any(|f| self.p.schema.model(related).field(*f).arity == Arity::Required);
        if required {
            let q = sql::SelectSpec {
                projection: vec![sql::item(sql::int_lit(1))],
                from: vec![sql::from(self.p.table_unaliased(related))],
                selection: Some(sql::and(cond)),
                limit: Some(sql::int_lit(1)),
                ..Default::default()
            }
            .into_query();
            let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
            let e = Error::relation_violation(relation, &self.model_name(related), &self.model_name(parent));
            self.emit(Step::Query { stmt, bind: None, types: vec![], check: Check::Empty(e) });
            return Ok(());
        }
        let assignments = fields.iter().map(|f| (self.p.column(related, *f).to_owned(), sql::null())).collect();
        let ast = sql::update(self.p.table_unaliased(related), assignments, Some(sql::and(cond)), vec![]);
        let stmt = self.finish_stmt(ast);
        self.emit(Step::Execute { stmt, bind: None, check: Check::None });
        Ok(())
    }

    /// Implicit many-to-many.
    fn nested_join(&mut self, model: ModelId, parent: &RowVar, rf: &RelationField, join: &JoinInfo, name: &str, op: &NestedOp) -> Result<()> {
        let related = rf.related;
        let keys = self.key_fields(related);
        let parent_id = join.reference;
        let link = |w: &mut Self, alias: &str| -> Result<Expr> {
            let j = w.p.alias('j');
            let parent_ref = w.refer(parent, parent_id, false)?;
            let q = sql::SelectSpec {
                projection: vec![sql::item(sql::col(&j, join.other))],
                from: vec![sql::from(sql::table(w.p.namespace, &join.table, &j))],
                selection: Some(sql::eq(sql::col(&j, join.column), parent_ref)),
                ..Default::default()
            }
            .into_query();
            Ok(sql::in_subquery(vec![sql::col(alias, w.p.column(related, join.other_reference))], q, false))
        };
        match op {
            NestedOp::Create(input) => {
                let child = self.create_row(related, input, None)?;
                self.join_insert(parent, &child, join)
            }
            NestedOp::Connect(filter) => {
                let e = self.connect_not_found(related, model, name);
                let target = self.lookup(related, keys, |p, a| p.filter_expr(related, a, filter), Check::NonEmpty(e), true);
                self.join_insert(parent, &target, join)
            }
            NestedOp::ConnectOrCreate { filter, create } => {
                let found = self.lookup(related, keys, |p, a| p.filter_expr(related, a, filter), Check::None, true);
                self.blocks.push(Vec::new());
                let created = self.create_row(related, create, None)?;
                self.copy_var(&created, found.var)?;
                let otherwise = self.blocks.pop().unwrap_or_default();
                self.emit(Step::IfRows { var: found.var, then: vec![], otherwise });
                self.join_insert(parent, &found, join)
            }
            NestedOp::Set(filters) => {
                self.join_delete(parent, join, None, Some(related))?;
                for f in filters {
                    let e = self.connect_not_found(related, model, name);
                    let target = self.lookup(related, keys.clone(), |p, a| p.filter_expr(related, a, f), Check::NonEmpty(e), true);
                    self.join_insert(parent, &target, join)?;
                }
                Ok(())
            }
            NestedOp::Disconnect(filter) => {
                // Only the links change: the rows themselves are read (a shared row may be unlinked).
                let targets = self.lookup_linked(related, keys, &link, filter.as_ref(), Check::None, false)?;
                self.join_delete(parent, join, Some(&targets), None)
            }
            NestedOp::Delete(filter) => {
                let e = self.not_connected(model, rf);
                let target = self.lookup_linked(related, keys, &link, filter.as_ref(), Check::NonEmpty(e), true)?;
                self.delete_rows(related, &target, false, 0).map(|_| ())
            }
            NestedOp::Update { filter, data } => {
                let e = self.related_not_found(rf, "update");
                let target = self.lookup_linked(related, keys, &link, filter.as_ref(), Check::NonEmpty(e), true)?;
                self.update_row(related, &target, data).map(|_| ())
            }
            NestedOp::UpdateMany { filter, data } => {
                let rows = self.lookup_linked(related, keys, &link, Some(filter), Check::None, true)?;
                if self.update_needs_emulation(related, data) {
                    self.emulate_update(related, &rows, data, 0)?;
                }
                let table = self.p.schema.model(related).db_name.clone();
                let assignments = self.assignments(related, &table, data)?;
                if assignments.is_empty() {
                    return Ok(());
                }
                let cond = self.is_row(related, &table, &rows, true)?;
                let ast = sql::update(self.p.table_unaliased(related), assignments, Some(cond), vec![]);
                let stmt = self.finish_stmt(ast);
                self.emit(Step::Execute { stmt, bind: None, check: Check::None });
                Ok(())
            }
            NestedOp::DeleteMany(filter) => {
                let rows = self.lookup_linked(related, keys, &link, Some(filter), Check::None, true)?;
                self.delete_rows(related, &rows, true, 0).map(|_| ())
            }
            NestedOp::Upsert { filter, create, update } => {
                let found = self.lookup_linked(related, keys, &link, filter.as_ref(), Check::None, true)?;
                self.blocks.push(Vec::new());
                self.update_row(related, &found, update)?;
                let then = self.blocks.pop().unwrap_or_default();
                self.blocks.push(Vec::new());
                let created = self.create_row(related, create, None)?;
                self.join_insert(parent, &created, join)?;
                let otherwise = self.blocks.pop().unwrap_or_default();
                self.emit(Step::IfRows { var: found.var, then, otherwise });
                Ok(())
            }
            NestedOp::CreateMany { .. } => Err(Error::new(codes::INVALID_VALUE, format!("createMany is not available on the many-to-many relation {name}"))),
        }
    }

    fn join_insert(&mut self, parent: &RowVar, child: &RowVar, join: &JoinInfo) -> Result<()> {
        let a = self.refer(parent, join.reference, false)?;
        let b = self.refer(child, join.other_reference, false)?;
        let ast = sql::insert(
            sql::table_name(self.p.namespace, &join.table),
            vec![join.column.to_owned(), join.other.to_owned()],
            vec![vec![a, b]],
            Some(sql::Conflict::DoNothing),
            vec![],
        );
        let stmt = self.finish_stmt(ast);
        self.emit(Step::Execute { stmt, bind: None, check: Check::None });
        Ok(())
    }

    /// Removes the parent's links: to `children`, or (`set`) to every row of `related` the request
    /// can read — through the related table, so a scope that hides some of its rows keeps their
    /// links (the join table itself has no tenant).
    fn join_delete(&mut self, parent: &RowVar, join: &JoinInfo, children: Option<&RowVar>, related: Option<ModelId>) -> Result<()> {
        let j = join.table.clone();
        let mut conds = vec![sql::eq(sql::col(&j, join.column), self.refer(parent, join.reference, false)?)];
        if let Some(c) = children {
            conds.push(sql::eq_any(self.p.mysql(), sql::col(&j, join.other), self.refer(c, join.other_reference, true)?));
        }
        if let Some(related) = related {
            let alias = self.p.alias('t');
            let q = sql::SelectSpec {
                projection: vec![sql::item(sql::col(&alias, self.p.column(related, join.other_reference)))],
                from: vec![sql::from(self.p.table(related, &alias))],
                ..Default::default()
            }
            .into_query();
            conds.push(sql::in_subquery(vec![sql::col(&j, join.other)], q, false));
        }
        let ast = sql::delete(sql::table(self.p.namespace, &j, &j), Some(sql::and(conds)), vec![]);
        let stmt = self.finish_stmt(ast);
        self.emit(Step::Execute { stmt, bind: None, check: Check::None });
        Ok(())
    }

    // ---------------------------------------------------------------- deletes and referential actions

    /// Deletes the rows in `rows` (all of them, or the first) after the referential actions the
    /// database does not do. Returns the variable holding the affected-row count.
    fn delete_rows(&mut self, model: ModelId, rows: &RowVar, all: bool, depth: usize) -> Result<u32> {
        if depth > MAX_CASCADE {
            return Err(Error::new(codes::UNSUPPORTED, "referential actions cascade deeper than the supported limit"));
        }
        let emulate = self.p.schema.relation_mode() == RelationMode::Prisma;
        let schema = self.p.schema;
        let m = schema.model(model);
        // Rows that cascade to rows of the same model (a tree) are all collected first: how deep
        // the tree goes is only known from the data.
        let self_cascades: Vec<(Vec<FieldId>, Vec<FieldId>)> = m
            .relation_fields()
            .filter_map(|(_, _, r)| match &r.link {
                RelationLink::BackReference { fields, references } if emulate && r.related == model && r.on_delete == ReferentialAction::Cascade => {
                    Some((fields.clone(), references.clone()))
                }
                _ => None,
            })
            .collect();
        let expanded;
        let (rows, all) = if self_cascades.is_empty() {
            (rows, all)
        } else {
            expanded = self.descendants(model, rows, all, &self_cascades)?;
            (&expanded, true)
        };
        // Implicit many-to-many links go first in both modes when emulating; with foreign keys
        // the join table's ON DELETE CASCADE removes them.
        if emulate {
            for (_, _, r) in m.relation_fields() {
                if let RelationLink::JoinTable { table, column, reference, .. } = &r.link {
                    let ids = self.refer(rows, *reference, true)?;
                    let cond = sql::eq_any(self.p.mysql(), sql::col(table, column.name()), ids);
                    let ast = sql::delete(sql::table(self.p.namespace, table, table), Some(cond), vec![]);
                    let stmt = self.finish_stmt(ast);
                    self.emit(Step::Execute { stmt, bind: None, check: Check::None });
                }
            }
            // Rows of other models that point here.
            for (_, _, r) in m.relation_fields() {
                let RelationLink::BackReference { fields, references } = &r.link else { continue };
                if r.related == model && r.on_delete == ReferentialAction::Cascade {
                    continue;
                }
                let child = r.related;
                let child_name = schema.model(child).name.clone();
                let cond_for = |w: &mut Self, alias: &str| -> Result<Expr> {
                    let mut parts = Vec::new();
                    for (cf, pr) in fields.iter().zip(references) {
                        let vals = w.refer(rows, *pr, true)?;
                        parts.push(sql::eq_any(w.p.mysql(), sql::col(alias, w.p.column(child, *cf)), vals));
                    }
                    Ok(sql::and(parts))
                };
                match r.on_delete {
                    ReferentialAction::Cascade => {
                        let keys = self.key_fields(child);
                        let children = self.lookup_linked(child, keys, &cond_for, None, Check::None, true)?;
                        self.delete_rows(child, &children, true, depth + 1)?;
                    }
                    ReferentialAction::SetNull | ReferentialAction::SetDefault => {
                        let table = schema.model(child).db_name.clone();
                        let cond = cond_for(self, &table)?;
                        let value = if r.on_delete == ReferentialAction::SetNull { sql::null() } else { sql::default_kw() };
                        let assignments = fields.iter().map(|cf| (self.p.column(child, *cf).to_owned(), value.clone())).collect();
                        let ast = sql::update(self.p.table_unaliased(child), assignments, Some(cond), vec![]);
                        let stmt = self.finish_stmt(ast);
                        self.emit(Step::Execute { stmt, bind: None, check: Check::None });
                    }
                    ReferentialAction::Restrict | ReferentialAction::NoAction => {
                        let table = schema.model(child).db_name.clone();
                        let cond = cond_for(self, &table)?;
                        let q = sql::SelectSpec {
                            projection: vec![sql::item(sql::int_lit(1))],
                            from: vec![sql::from(self.p.table_unaliased(child))],
                            selection: Some(cond),
                            limit: Some(sql::int_lit(1)),
                            ..Default::default()
                        }
                        .into_query();
                        let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
                        let e = Error::relation_violation(&r.relation_name, &child_name, &m.name);
                        self.emit(Step::Query { stmt, bind: None, types: vec![], check: Check::Empty(e) });
                    }
                }
            }
        }
        let table = m.db_name.clone();
        let cond = self.is_row(model, &table, rows, all)?;
        let var = self.var();
        let ast = sql::delete(self.p.table_unaliased(model), Some(cond), vec![]);
        let stmt = self.finish_stmt(ast);
        self.emit(Step::Execute { stmt, bind: Some(var), check: Check::None });
        Ok(var)
    }

    /// `rows` and every row of the same model that cascades from them, at any depth:
    /// `WITH RECURSIVE tree AS (rows UNION children of tree) SELECT * FROM tree`.
    fn descendants(&mut self, model: ModelId, rows: &RowVar, all: bool, links: &[(Vec<FieldId>, Vec<FieldId>)]) -> Result<RowVar> {
        const TREE: &str = "quarry_tree";
        let keys = self.key_fields(model);
        let columns: Vec<String> = keys.iter().map(|f| format!("k{}", f.0)).collect();
        let base_alias = self.p.alias('t');
        let base_cond = self.is_row(model, &base_alias, rows, all)?;
        let base = sql::SelectSpec {
            projection: keys.iter().map(|f| sql::item(sql::col(&base_alias, self.p.column(model, *f)))).collect(),
            from: vec![sql::from(self.p.table(model, &base_alias))],
            selection: Some(base_cond),
            ..Default::default()
        }
        .into_query();
        let child = self.p.alias('t');
        let step_cond = sql::or(
            links
                .iter()
                .map(|(fields, references)| {
                    sql::and(
                        fields
                            .iter()
                            .zip(references)
                            .map(|(f, r)| {
                                let k = keys.iter().position(|x| x == r).map(|i| columns[i].clone()).unwrap_or_default();
                                sql::eq(sql::col(&child, self.p.column(model, *f)), sql::col(TREE, &k))
                            })
                            .collect(),
                    )
                })
                .collect(),
        );
        let step = sql::SelectSpec {
            projection: keys.iter().map(|f| sql::item(sql::col(&child, self.p.column(model, *f)))).collect(),
            from: vec![sql::from(self.p.table(model, &child)), sql::from(sql::table_plain(None, TREE))],
            selection: Some(step_cond),
            ..Default::default()
        }
        .into_query();
        let body = sql::SelectSpec {
            projection: columns.iter().map(|c| sql::item(sql::col(TREE, c))).collect(),
            from: vec![sql::from(sql::table_plain(None, TREE))],
            ..Default::default()
        }
        .into_query();
        let q = sql::with_recursive(TREE, &columns, base, step, body);
        let var = self.var();
        let types = keys.iter().map(|f| self.field_type(model, *f)).collect();
        let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
        self.emit(Step::Query { stmt, bind: Some(var), types, check: Check::None });
        Ok(RowVar { var, model, fields: keys })
    }

    /// Whether an update changes fields other rows refer to while relations are emulated.
    fn update_needs_emulation(&self, model: ModelId, data: &UpdateInput) -> bool {
        if self.p.schema.relation_mode() != RelationMode::Prisma {
            return false;
        }
        let m = self.p.schema.model(model);
        m.relation_fields().any(|(_, _, r)| match &r.link {
            RelationLink::BackReference { references, .. } => data.scalars.iter().any(|(f, _)| references.contains(f)),
            RelationLink::JoinTable { reference, .. } => data.scalars.iter().any(|(f, _)| f == reference),
            _ => false,
        })
    }

    /// onUpdate actions when referenced fields change under `relationMode = "prisma"`.
    fn emulate_update(&mut self, model: ModelId, rows: &RowVar, data: &UpdateInput, depth: usize) -> Result<()> {
        if depth > MAX_CASCADE {
            return Err(Error::new(codes::UNSUPPORTED, "referential actions cascade deeper than the supported limit"));
        }
        let schema = self.p.schema;
        let m = schema.model(model);
        // Implicit many-to-many links follow the id, as the join table's ON UPDATE CASCADE does
        // with foreign keys.
        for (_, _, r) in m.relation_fields() {
            let RelationLink::JoinTable { table, column, reference, .. } = &r.link else { continue };
            let Some((_, u)) = data.scalars.iter().find(|(f, _)| f == reference) else { continue };
            let ScalarUpdate::Set(v) = u else {
                return Err(Error::new(codes::UNSUPPORTED, "atomic operations on fields other rows refer to"));
            };
            let ids = self.refer(rows, *reference, true)?;
            let cond = sql::eq_any(self.p.mysql(), sql::col(table, column.name()), ids);
            let e = self.p.params.bind(v.clone());
            let ast = sql::update(sql::table(self.p.namespace, table, table), vec![(column.name().to_owned(), e)], Some(cond), vec![]);
            let stmt = self.finish_stmt(ast);
            self.emit(Step::Execute { stmt, bind: None, check: Check::None });
        }
        for (_, _, r) in m.relation_fields() {
            let RelationLink::BackReference { fields, references } = &r.link else { continue };
            let changed: Vec<(FieldId, FieldId, &ScalarUpdate)> = fields
                .iter()
                .zip(references)
                .filter_map(|(cf, pr)| data.scalars.iter().find(|(f, _)| f == pr).map(|(_, u)| (*cf, *pr, u)))
                .collect();
            if changed.is_empty() {
                continue;
            }
            let child = r.related;
            let table = schema.model(child).db_name.clone();
            let mut parts = Vec::new();
            for (cf, pr) in fields.iter().zip(references) {
                let vals = self.refer(rows, *pr, true)?;
                parts.push(sql::eq_any(self.p.mysql(), sql::col(&table, self.p.column(child, *cf)), vals));
            }
            let cond = sql::and(parts);
            match r.on_update {
                ReferentialAction::Cascade => {
                    let mut assignments = Vec::new();
                    for (cf, _, u) in &changed {
                        let ScalarUpdate::Set(v) = u else {
                            return Err(Error::new(codes::UNSUPPORTED, "atomic operations on fields other rows refer to"));
                        };
                        let e = self.p.params.bind(v.clone());
                        assignments.push((self.p.column(child, *cf).to_owned(), e));
                    }
                    let ast = sql::update(self.p.table_unaliased(child), assignments, Some(cond), vec![]);
                    let stmt = self.finish_stmt(ast);
                    self.emit(Step::Execute { stmt, bind: None, check: Check::None });
                }
                ReferentialAction::SetNull | ReferentialAction::SetDefault => {
                    let value = if r.on_update == ReferentialAction::SetNull { sql::null() } else { sql::default_kw() };
                    let assignments = changed.iter().map(|(cf, _, _)| (self.p.column(child, *cf).to_owned(), value.clone())).collect();
                    let ast = sql::update(self.p.table_unaliased(child), assignments, Some(cond), vec![]);
                    let stmt = self.finish_stmt(ast);
                    self.emit(Step::Execute { stmt, bind: None, check: Check::None });
                }
                ReferentialAction::Restrict | ReferentialAction::NoAction => {
                    let q = sql::SelectSpec {
                        projection: vec![sql::item(sql::int_lit(1))],
                        from: vec![sql::from(self.p.table_unaliased(child))],
                        selection: Some(cond),
                        limit: Some(sql::int_lit(1)),
                        ..Default::default()
                    }
                    .into_query();
                    let stmt = self.finish_stmt(Statement::Query(Box::new(q)));
                    let e = Error::relation_violation(&r.relation_name, &m.name, &schema.model(child).name);
                    self.emit(Step::Query { stmt, bind: None, types: vec![], check: Check::Empty(e) });
                }
            }
        }
        Ok(())
    }
}

struct JoinInfo {
    table: String,
    column: &'static str,
    other: &'static str,
    reference: FieldId,
    other_reference: FieldId,
}

fn relation(r: Option<&RelationField>) -> Result<&RelationField> {
    r.ok_or_else(|| Error::internal("expected a relation field"))
}

fn unreachable_scalar() -> &'static ScalarField {
    static EMPTY: std::sync::OnceLock<ScalarField> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| ScalarField {
        db_name: String::new(),
        ty: ScalarType::String,
        native_type: None,
        default: None,
        updated_at: false,
        is_id: false,
        is_unique: false,
    })
}

/// The current time for a column, in UTC whatever the session's time zone.
fn now_expr(s: &ScalarField, mysql: bool) -> Expr {
    if mysql {
        // Sessions run in UTC (the driver contract); millisecond precision like Prisma.
        return match s.native_type.as_ref().map(|n| n.name.as_str()) {
            Some("Date") => sql::func("UTC_DATE", vec![]),
            Some("Time") | Some("Timetz") => sql::func("UTC_TIME", vec![sql::int_lit(3)]),
            _ => sql::func("UTC_TIMESTAMP", vec![sql::int_lit(3)]),
        };
    }
    match s.native_type.as_ref().map(|n| n.name.as_str()) {
        Some("Timestamptz") => sql::keyword("CURRENT_TIMESTAMP"),
        Some("Date") => sql::cast(sql::func("timezone", vec![sql::string_lit("UTC"), sql::keyword("CURRENT_TIMESTAMP")]), "date"),
        Some("Time") | Some("Timetz") => sql::cast(sql::func("timezone", vec![sql::string_lit("UTC"), sql::keyword("CURRENT_TIMESTAMP")]), "time"),
        _ => sql::func("timezone", vec![sql::string_lit("UTC"), sql::keyword("CURRENT_TIMESTAMP")]),
    }
}

/// A parameter in a SELECT list has no column to take its type from: cast it (to an array of
/// the type with `array`).
fn cast_for(e: Expr, ty: &ScalarType, s: &ScalarField, array: bool) -> Expr {
    let native = s.native_type.as_ref().map(|n| n.name.as_str());
    let t = match (ty, native) {
        (_, Some("Uuid")) => "uuid",
        (ScalarType::Int, _) => "int4",
        (ScalarType::BigInt, _) => "int8",
        (ScalarType::Float, _) => "float8",
        (ScalarType::Decimal, _) => "numeric",
        (ScalarType::Boolean, _) => "bool",
        (ScalarType::DateTime, Some("Timestamptz")) => "timestamptz",
        (ScalarType::DateTime, _) => "timestamp",
        (ScalarType::Bytes, _) => "bytea",
        (ScalarType::Json, _) => "jsonb",
        _ => "text",
    };
    if array { sql::cast(e, &format!("{t}[]")) } else { sql::cast(e, t) }
}

/// `field = value` pairs when a filter is only that (a unique `where` with nothing else).
fn equality_pairs(f: &Filter) -> Option<Vec<(FieldId, Value)>> {
    use crate::query::{Cmp, ScalarCond};
    match f {
        Filter::Scalar { field, cond: ScalarCond::Cmp { op: Cmp::Eq, value, insensitive: false } } => Some(vec![(*field, value.clone())]),
        Filter::And(items) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(equality_pairs(i)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// Rewrites references to `from` into `to` (moving a condition into a subquery).
fn rebase(mut e: Expr, from: &str, to: &str) -> Expr {
    use sqlparser::ast::VisitMut;
    let mut rename = |e: &mut Expr| {
        if let Expr::CompoundIdentifier(parts) = e {
            if parts.len() == 2 && parts[0].value == from {
                parts[0] = sql::ident(to);
            }
        }
    };
    let _ = e.visit(&mut super::Rewriter { expr: &mut rename, table: None });
    e
}
