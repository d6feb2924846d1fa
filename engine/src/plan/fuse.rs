//! One statement for a create with nested creates on PostgreSQL: a plan of an INSERT of a new row,
//! the INSERTs of rows that point to it, and the read-back of the result becomes
//! `WITH w0 AS (INSERT … RETURNING *), w1 AS (INSERT … VALUES (…, (SELECT "id" FROM w0)) RETURNING *)
//! SELECT <the read-back, reading w0 and w1>`. One statement is atomic, so no transaction is
//! needed: three to five round trips become one.
//!
//! This pass runs on a plan that is already scoped and guarded: every statement it joins was
//! checked by the scope pass exactly as when it runs alone (tenant column set or checked on each
//! INSERT, tenant predicates on the read-back, the foreign key guards), and the pass only replaces
//! references to the rows an earlier statement returned by reads of the CTE that returns them, and
//! the tables the read-back reads by those CTEs. A plan with anything else (a lookup, a guard, a
//! check, a branch, a write that is not a plain INSERT) keeps its statements.
//!
//! The statement's main query does not see the rows its CTEs insert when it reads the tables, only
//! through the CTEs, so the read-back may only read rows created by this statement: the new row
//! itself and rows of relations pointing to it. Rows that point to a row created in the same
//! statement can only be rows created in it, as long as the database checks the foreign keys
//! (`relationMode = "foreignKeys"`); any other table in the read-back (a to-one relation of a
//! child, a relation filter, a join table, a model no INSERT wrote) keeps the plan as it was.

use super::{Check, OutputKind, Plan, Step};
use crate::schema::{RelationMode, Schema};
use crate::sql::{self, Param, Stmt};
use sqlparser::ast::{
    Cte, Expr, ObjectName, SelectItem, SetExpr, Statement, TableFactor, TableObject, VisitMut, With, helpers::attached_token::AttachedToken,
};

/// Joins a nested create's statements into one where that gives the same result; otherwise
/// leaves the plan as it is.
pub fn fuse_nested_create(schema: &Schema, plan: &mut Plan) {
    if schema.relation_mode() != RelationMode::ForeignKeys {
        return;
    }
    if let Some(step) = fused(schema, plan) {
        plan.steps = vec![step];
    }
}

/// The table an INSERT writes, as its last name part.
fn insert_table(stmt: &Statement) -> Option<(&ObjectName, String)> {
    let Statement::Insert(ins) = stmt else { return None };
    if ins.on.is_some() || ins.table_alias.is_some() {
        return None;
    }
    let TableObject::TableName(name) = &ins.table else { return None };
    let (_, table) = sql::split_table_name(name)?;
    Some((name, table.to_owned()))
}

fn fused(schema: &Schema, plan: &Plan) -> Option<Step> {
    if !matches!(plan.output.kind, OutputKind::One { .. }) || plan.steps.len() < 2 {
        return None;
    }
    let (first, rest) = plan.steps.split_first()?;
    let (last, children) = rest.split_last()?;
    // The new row: an INSERT kept in a variable.
    let Step::Query { stmt: parent, bind: Some(parent_var), check: Check::None, .. } = first else { return None };
    let (_, parent_table) = insert_table(&parent.ast)?;
    // The read-back, whose rows are the output.
    let Step::Query { stmt: read, bind: Some(out), check: Check::None, types } = last else { return None };
    if *out != plan.output.var {
        return None;
    }
    let Statement::Query(read_query) = &read.ast else { return None };
    if read_query.with.is_some() {
        return None;
    }
    // The columns the parent's RETURNING gives, by position: what references to its row read.
    let Statement::Insert(parent_insert) = &parent.ast else { return None };
    let parent_columns: Vec<String> = parent_insert
        .returning
        .as_ref()?
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().map(|i| i.value.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.clone()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    // Rows that point to the new row: plain INSERTs whose only references are to its row.
    let mut tables = vec![parent_table.clone()];
    let mut inserts = vec![parent];
    for step in children {
        let stmt = match step {
            Step::Execute { stmt, bind: None, check: Check::None } => stmt,
            Step::Query { stmt, bind: Some(var), check: Check::None, .. } if var != parent_var && !read_uses(plan, *var) => stmt,
            _ => return None,
        };
        let (_, table) = insert_table(&stmt.ast)?;
        // Two INSERTs into one table would make the read-back's table ambiguous.
        if tables.contains(&table) {
            return None;
        }
        tables.push(table);
        inserts.push(stmt);
    }
    // CTE names that no table of the schema has.
    let taken = |n: &str| {
        schema.model_ids().any(|m| {
            let model = schema.model(m);
            model.db_name == n
                || model.relation_fields().any(|(_, _, r)| matches!(&r.link, crate::schema::RelationLink::JoinTable { table, .. } if table == n))
        })
    };
    let names: Vec<String> = (0..tables.len()).map(|i| format!("w{i}")).collect();
    if names.iter().any(|n| taken(n)) {
        return None;
    }
    let reference = |column: &str| -> Expr {
        sql::subquery(
            sql::SelectSpec { projection: vec![sql::item(sql::col(&names[0], column))], from: vec![sql::from(sql::table(None, &names[0], &names[0]))], ..Default::default() }
                .into_query(),
        )
    };
    // Every statement's parameters into one list; references to the new row become reads of w0.
    let mut params: Vec<Param> = Vec::new();
    let mut ctes = Vec::with_capacity(inserts.len());
    for (i, stmt) in inserts.iter().enumerate() {
        let mut ast = renumber(stmt, *parent_var, &parent_columns, &reference, &mut params, i > 0)?;
        let Statement::Insert(ins) = &mut ast else { return None };
        ins.returning = Some(vec![sqlparser::ast::SelectItem::Wildcard(Default::default())]);
        let mut alias = sql::table_alias(&names[i]);
        alias.explicit = false;
        ctes.push(Cte {
            alias,
            query: Box::new(sql::query(SetExpr::Insert(ast), vec![], None, None)),
            from: None,
            materialized: None,
            closing_paren_token: AttachedToken::empty(),
        });
    }
    let read_ast = renumber(read, *parent_var, &parent_columns, &reference, &mut params, true)?;
    let Statement::Query(mut query) = read_ast else { return None };
    // The read-back reads the CTEs: the new row exactly once (its FROM), each table of rows
    // pointing to it at most once, nothing else.
    let mut swap = Swap { tables: &tables, names: &names, uses: vec![0; tables.len()], other: false };
    let mut table = |tf: &mut TableFactor| swap.table(tf);
    let _ = VisitMut::visit(&mut *query, &mut super::Rewriter { expr: &mut |_| {}, table: Some(&mut table) });
    if swap.other || swap.uses[0] != 1 || swap.uses[1..].iter().any(|n| *n > 1) {
        return None;
    }
    query.with = Some(With { with_token: AttachedToken::empty(), recursive: false, cte_tables: ctes });
    let stmt = Stmt { ast: Statement::Query(query), params };
    Some(Step::Query { stmt, bind: Some(*out), types: types.clone(), check: Check::None })
}

/// Whether any statement of the plan reads variable `var`.
fn read_uses(plan: &Plan, var: u32) -> bool {
    plan.statements().iter().any(|s| {
        s.params.iter().any(|p| match p {
            Param::Ref(r) => r.var == var,
            Param::Rows { var: v, .. } => *v == var,
            _ => false,
        })
    })
}

/// A statement's placeholders renumbered to follow `params` (its parameters appended there);
/// a reference to the new row's column becomes `reference(column)` when `refs` allows it.
fn renumber(stmt: &Stmt, parent_var: u32, columns: &[String], reference: &dyn Fn(&str) -> Expr, params: &mut Vec<Param>, refs: bool) -> Option<Statement> {
    let mut map: Vec<To> = Vec::with_capacity(stmt.params.len());
    for p in &stmt.params {
        match p {
            Param::Value(_) | Param::Generated(_) => {
                params.push(p.clone());
                map.push(To::Index(params.len()));
            }
            Param::Ref(r) if refs && r.var == parent_var && !r.all => map.push(To::Expr(reference(columns.get(r.column as usize)?))),
            _ => return None,
        }
    }
    let mut ast = stmt.ast.clone();
    let mut broken = false;
    let mut expr = |e: &mut Expr| To::apply(&map, e, &mut broken);
    let _ = VisitMut::visit(&mut ast, &mut super::Rewriter { expr: &mut expr, table: None });
    (!broken).then_some(ast)
}

/// Where a placeholder of a joined statement goes: a new number, or a read of the new row.
enum To {
    Index(usize),
    Expr(Expr),
}

/// The read-back's tables and the CTEs that stand for them, with how often each is read.
struct Swap<'a> {
    tables: &'a [String],
    names: &'a [String],
    uses: Vec<usize>,
    /// A table no CTE stands for.
    other: bool,
}

impl To {
    /// Renumbers a placeholder, or sets `broken` for one the map does not know.
    fn apply(map: &[To], e: &mut Expr, broken: &mut bool) {
        if let Some(i) = sql::placeholder_index(e) {
            match map.get(i.wrapping_sub(1)) {
                Some(To::Index(n)) => *e = sql::placeholder(*n),
                Some(To::Expr(x)) => *e = x.clone(),
                None => *broken = true,
            }
        }
    }
}

impl Swap<'_> {
    fn table(&mut self, tf: &mut TableFactor) {
        match tf {
            TableFactor::Table { name, alias, args: None, .. } => {
                let Some((_, table)) = sql::split_table_name(name) else {
                    self.other = true;
                    return;
                };
                let table = table.to_owned();
                if self.names.contains(&table) {
                    // A read of the new row's key put in by `renumber`.
                    return;
                }
                match self.tables.iter().position(|t| *t == table) {
                    Some(i) => {
                        self.uses[i] += 1;
                        if alias.is_none() {
                            *alias = Some(sql::table_alias(&table));
                        }
                        *name = sql::table_name(None, &self.names[i]);
                    }
                    None => self.other = true,
                }
            }
            TableFactor::Table { .. } | TableFactor::Function { .. } | TableFactor::TableFunction { .. } => self.other = true,
            _ => {}
        }
    }
}
