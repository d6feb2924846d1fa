//! The plan stage: a validated query tree in, the statements to run and the shape of their
//! result out.
//!
//! Reads compile to one statement: nested relations are correlated subqueries that aggregate the
//! related rows to JSON inside the database (no query per relation level, no stitching here).
//! Statements are `sqlparser` trees with their parameters; the scope stage rewrites them before
//! anything runs.

pub mod aggregate;
mod filter;
pub mod fuse;
mod json_mysql;
mod mysql;
mod read;
pub mod shape;
mod write;

use crate::error::{Error, Result};
use crate::exec::Dialect;
use crate::query::{Args, Request};
use crate::schema::{FieldId, ModelId, RelationField, RelationLink, ScalarType, Schema};
use crate::sql::{self, Params, Stmt, ast::Expr, ast::Query};
use shape::RowShape;

/// Where the planner puts tables.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// The database schema (namespace) that qualifies every table, e.g. `public`.
    pub namespace: Option<String>,
    /// The SQL dialect the statements are built for (the schema's provider).
    pub dialect: Dialect,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::Postgres
    }
}

/// A small program: statements run in order, some keep their rows in variables that later
/// statements read (the id of a row just created), some are checked (a `connect` target must
/// exist), and branches choose between alternatives (upsert, connectOrCreate).
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub output: Output,
}

impl Plan {
    /// Plans of more than one statement run in a transaction.
    pub fn needs_transaction(&self) -> bool {
        fn count(steps: &[Step]) -> usize {
            steps
                .iter()
                .map(|s| match s {
                    Step::Query { .. } | Step::Execute { .. } => 1,
                    Step::IfRows { then, otherwise, .. } => 1 + count(then) + count(otherwise),
                })
                .sum()
        }
        count(&self.steps) > 1
    }

    /// Every statement, depth first.
    pub fn statements(&self) -> Vec<&Stmt> {
        fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a Stmt>) {
            for s in steps {
                match s {
                    Step::Query { stmt, .. } | Step::Execute { stmt, .. } => out.push(stmt),
                    Step::IfRows { then, otherwise, .. } => {
                        walk(then, out);
                        walk(otherwise, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.steps, &mut out);
        out
    }

    pub fn statements_mut(&mut self) -> Vec<&mut Stmt> {
        fn walk<'a>(steps: &'a mut [Step], out: &mut Vec<&'a mut Stmt>) {
            for s in steps {
                match s {
                    Step::Query { stmt, .. } | Step::Execute { stmt, .. } => out.push(stmt),
                    Step::IfRows { then, otherwise, .. } => {
                        walk(then, out);
                        walk(otherwise, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&mut self.steps, &mut out);
        out
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Runs a statement that returns rows; `bind` keeps them, `types` says how to read the
    /// columns that later statements refer to.
    Query { stmt: Stmt, bind: Option<u32>, types: Vec<ScalarType>, check: Check },
    /// Runs a statement for its affected-row count (kept in `bind`).
    Execute { stmt: Stmt, bind: Option<u32>, check: Check },
    /// Runs `then` when variable `var` holds at least one row, else `otherwise`.
    IfRows { var: u32, then: Vec<Step>, otherwise: Vec<Step> },
}

/// A condition on a statement's result that turns into an error.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    None,
    /// At least one row (or affected row), else this error.
    NonEmpty(Error),
    /// No row, else this error.
    Empty(Error),
}

/// How the executor turns the rows bound to `var` into the result.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub var: u32,
    pub kind: OutputKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OutputKind {
    /// A list of objects; `reverse` when a negative `take` read backwards.
    Many { shape: RowShape, reverse: bool },
    /// One object or null; `or_throw` turns null into a P2025 error.
    One { shape: RowShape, or_throw: bool },
    /// `count`: a number, or an object of counts when `select` named fields.
    Count { fields: Vec<String> },
    /// `{ count: n }` from an affected-row count.
    Affected,
    /// `aggregate`: one row of aggregates, nested under `_count`, `_sum`, ...
    Aggregate { columns: Vec<aggregate::AggColumn> },
    /// `groupBy`: a row per group with its fields and aggregates.
    Groups { columns: Vec<aggregate::AggColumn> },
}

pub fn plan(schema: &Schema, request: &Request, options: &PlanOptions) -> Result<Plan> {
    let mut p = Planner::new(schema, options.namespace.as_deref());
    p.dialect = options.dialect;
    let mut plan = plan_with(&mut p, request)?;
    if p.mysql() && matches!(request.args, Args::Write(_)) && p.refused.is_none() {
        mysql::rewrite(schema, options.namespace.as_deref(), &mut plan)?;
    }
    match p.refused.take() {
        Some(e) => Err(e),
        None => Ok(plan),
    }
}

fn plan_with(p: &mut Planner, request: &Request) -> Result<Plan> {
    use crate::query::Action;
    match &request.args {
        Args::Read(read) => {
            let (query, shape, reverse) = p.top_read(read);
            let kind = match request.action {
                Action::FindMany => OutputKind::Many { shape, reverse },
                Action::FindUniqueOrThrow | Action::FindFirstOrThrow => OutputKind::One { shape, or_throw: true },
                _ => OutputKind::One { shape, or_throw: false },
            };
            let stmt = p.finish(query);
            Ok(Plan { steps: vec![Step::Query { stmt, bind: Some(0), types: vec![], check: Check::None }], output: Output { var: 0, kind } })
        }
        Args::Count(count) => {
            let query = p.count(count);
            let fields = count.select.iter().map(|(name, _)| name.clone()).collect();
            let stmt = p.finish(query);
            Ok(Plan {
                steps: vec![Step::Query { stmt, bind: Some(0), types: vec![], check: Check::None }],
                output: Output { var: 0, kind: OutputKind::Count { fields } },
            })
        }
        Args::Aggregate(a) => p.aggregate(a),
        Args::GroupBy(g) => p.group_by(g),
        Args::Write(w) => write::Writer::new(p).plan(w),
    }
}

/// Builds statements for one request: hands out table aliases and collects parameters.
pub(crate) struct Planner<'s> {
    pub schema: &'s Schema,
    pub namespace: Option<&'s str>,
    pub params: Params,
    next_alias: u32,
    pub dialect: Dialect,
    /// The first shape of the request this dialect cannot express; planning fails with it.
    pub refused: Option<Error>,
}

impl<'s> Planner<'s> {
    pub fn new(schema: &'s Schema, namespace: Option<&'s str>) -> Self {
        Planner { schema, namespace, params: Params::default(), next_alias: 0, dialect: Dialect::Postgres, refused: None }
    }

    pub fn mysql(&self) -> bool {
        self.dialect == Dialect::Mysql
    }

    /// Records that the request needs something the dialect cannot do (the first one wins).
    pub fn refuse(&mut self, what: &str) {
        if self.refused.is_none() {
            self.refused = Some(Error::new(crate::error::codes::UNSUPPORTED, format!("{what} is not supported on MySQL yet")));
        }
    }

    /// A fresh alias such as `t3`.
    pub fn alias(&mut self, prefix: char) -> String {
        let a = format!("{prefix}{}", self.next_alias);
        self.next_alias += 1;
        a
    }

    /// Wraps a query with the parameters collected so far and starts a new parameter list.
    pub fn finish(&mut self, q: Query) -> Stmt {
        Stmt { ast: sql::ast::Statement::Query(Box::new(q)), params: std::mem::take(&mut self.params).values }
    }

    pub fn table(&self, model: ModelId, alias: &str) -> sql::ast::TableFactor {
        sql::table(self.namespace, &self.schema.model(model).db_name, alias)
    }

    /// The model's table without an alias: columns are qualified by the table name.
    pub fn table_unaliased(&self, model: ModelId) -> sql::ast::TableFactor {
        sql::table_plain(self.namespace, &self.schema.model(model).db_name)
    }

    /// The column of a scalar field.
    pub fn column(&self, model: ModelId, field: FieldId) -> &'s str {
        let schema: &'s Schema = self.schema;
        schema.model(model).field(field).as_scalar().map_or("", |s| s.db_name.as_str())
    }

    /// The condition that links a row of `parent` (at `parent_alias`) to a row of the related
    /// model (at `child_alias`) through relation field `rf`.
    pub fn link(&mut self, parent: ModelId, parent_alias: &str, rf: &RelationField, child_alias: &str) -> Expr {
        let child = rf.related;
        match &rf.link {
            RelationLink::ForeignKey { fields, references } => sql::and(
                fields
                    .iter()
                    .zip(references)
                    .map(|(f, r)| sql::eq(sql::col(child_alias, self.column(child, *r)), sql::col(parent_alias, self.column(parent, *f))))
                    .collect(),
            ),
            RelationLink::BackReference { fields, references } => sql::and(
                fields
                    .iter()
                    .zip(references)
                    .map(|(f, r)| sql::eq(sql::col(child_alias, self.column(child, *f)), sql::col(parent_alias, self.column(parent, *r))))
                    .collect(),
            ),
            RelationLink::JoinTable { table, column, reference, other_reference } => {
                let j = self.alias('j');
                let q = sql::SelectSpec {
                    projection: vec![sql::item(sql::col(&j, column.other().name()))],
                    from: vec![sql::from(sql::table(self.namespace, table, &j))],
                    selection: Some(sql::eq(sql::col(&j, column.name()), sql::col(parent_alias, self.column(parent, *reference)))),
                    ..Default::default()
                }
                .into_query();
                Expr::InSubquery {
                    expr: Box::new(sql::col(child_alias, self.column(child, *other_reference))),
                    subquery: Box::new(q),
                    negated: false,
                }
            }
        }
    }

    /// `SELECT 1 FROM model AS alias WHERE cond`.
    pub fn exists_query(&self, model: ModelId, alias: &str, cond: Expr) -> Query {
        sql::SelectSpec {
            projection: vec![sql::item(sql::int_lit(1))],
            from: vec![sql::from(self.table(model, alias))],
            selection: Some(cond),
            ..Default::default()
        }
        .into_query()
    }
}

/// The one visitor type for the planner's rewrites of finished trees (each visitor type brings
/// its own copy of sqlparser's tree walk into the WebAssembly module): `expr` sees every
/// expression before its children, `table` every table factor.
pub(crate) struct Rewriter<'a> {
    pub expr: &'a mut dyn FnMut(&mut Expr),
    pub table: Option<&'a mut dyn FnMut(&mut sql::ast::TableFactor)>,
}

impl sql::ast::VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
        (self.expr)(e);
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &mut sql::ast::TableFactor) -> std::ops::ControlFlow<()> {
        if let Some(f) = self.table.as_mut() {
            f(tf);
        }
        std::ops::ControlFlow::Continue(())
    }
}
