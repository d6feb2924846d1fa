//! The SQL tree and its rendering.
//!
//! Every statement the engine runs, generated or raw, is a `sqlparser` AST: one tree, so the scope
//! stage has one thing to walk and generated SQL always parses back with sqlparser. This module
//! owns the small constructors the planner uses to build that tree, the parameter list that pairs
//! with it (values are only ever bind parameters; identifiers only ever come from the schema and
//! are always quoted), and rendering per dialect.

use crate::exec::Dialect;
use crate::value::Value;
pub use sqlparser::ast;
use sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, DataType, Distinct, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArgumentClause, FunctionArgumentList, FunctionArguments, GroupByExpr,
    Ident, Join, JoinConstraint, JoinOperator, LimitClause, ObjectName, ObjectNamePart, Offset,
    OffsetRows, OrderBy, OrderByExpr, OrderByKind, OrderByOptions, OrderBySort, Query, Select, SelectFlavor,
    SelectItem, SetExpr, Statement, TableAlias, TableFactor, TableWithJoins, UnaryOperator,
    Value as SqlValue,
};
use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::tokenizer::Span;

/// A statement and its bind parameters, rendered as `$1..$n` (PostgreSQL) or `?` (MySQL).
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub ast: Statement,
    pub params: Vec<Param>,
}

/// A bind parameter: a value known when the statement is built, or a value read from the rows
/// an earlier statement of the same plan returned (the id of a row just created, say).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Value(Value),
    Ref(VarRef),
    /// Every row bound to variable `var` as a tuple of the given columns: a key set for a
    /// row-value `(a, b) IN ($n)` on MySQL, spread into `(?, ?), (?, ?)` when rendered (no
    /// rows: one tuple of NULLs, which matches nothing).
    Rows { var: u32, columns: Vec<u32> },
    /// A default the engine generates when the statement runs (a fresh id per execution), so
    /// a plan stays the same for every run of the same request.
    Generated(Generator),
}

/// The defaults the engine generates itself (the database has no function for them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generator {
    /// `uuid()` (version 4) or `uuid(7)`.
    Uuid(u8),
    /// `cuid()` (version 1) or `cuid(2)`.
    Cuid(u8),
    /// `nanoid()` / `nanoid(n)`.
    Nanoid(u32),
    Ulid,
}

impl std::fmt::Display for Generator {
    /// As the schema writes it: `uuid(7)`, `cuid(2)`, `nanoid(21)`, `ulid()`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Generator::Uuid(v) => write!(f, "uuid({v})"),
            Generator::Cuid(v) => write!(f, "cuid({v})"),
            Generator::Nanoid(n) => write!(f, "nanoid({n})"),
            Generator::Ulid => f.write_str("ulid()"),
        }
    }
}

/// Column `column` of the rows bound to variable `var`: the first row's value, or with `all`
/// every row's value as a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarRef {
    pub var: u32,
    pub column: u32,
    pub all: bool,
}

/// Collects bind parameters while a statement is built.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pub values: Vec<Param>,
}

impl Params {
    /// Binds a value and returns its placeholder.
    pub fn bind(&mut self, v: Value) -> Expr {
        self.values.push(Param::Value(v));
        placeholder(self.values.len())
    }

    /// Binds a value from an earlier statement's rows and returns its placeholder.
    pub fn bind_ref(&mut self, r: VarRef) -> Expr {
        self.values.push(Param::Ref(r));
        placeholder(self.values.len())
    }

    /// Binds the rows of an earlier statement as tuples of `columns` (MySQL row-value lists).
    pub fn bind_rows(&mut self, var: u32, columns: Vec<u32>) -> Expr {
        self.values.push(Param::Rows { var, columns });
        placeholder(self.values.len())
    }

    /// Binds a value generated when the statement runs and returns its placeholder.
    pub fn bind_generated(&mut self, g: Generator) -> Expr {
        self.values.push(Param::Generated(g));
        placeholder(self.values.len())
    }
}

pub fn placeholder(n: usize) -> Expr {
    Expr::Value(SqlValue::Placeholder(format!("${n}")).with_empty_span())
}

/// The 1-based parameter number of a `$n` placeholder expression.
pub fn placeholder_index(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            SqlValue::Placeholder(p) => p.strip_prefix('$')?.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// A quoted identifier.
pub fn ident(name: &str) -> Ident {
    Ident { value: name.to_owned(), quote_style: Some('"'), span: Span::empty() }
}

/// `"alias"."column"`.
pub fn col(alias: &str, column: &str) -> Expr {
    Expr::CompoundIdentifier(vec![ident(alias), ident(column)])
}

/// `"namespace"."table"` or `"table"`.
pub fn table_name(namespace: Option<&str>, table: &str) -> ObjectName {
    let mut parts = Vec::with_capacity(2);
    if let Some(ns) = namespace {
        parts.push(ObjectNamePart::Identifier(ident(ns)));
    }
    parts.push(ObjectNamePart::Identifier(ident(table)));
    ObjectName(parts)
}

/// `"namespace"."table" AS "alias"`.
pub fn table(namespace: Option<&str>, table: &str, alias: &str) -> TableFactor {
    TableFactor::Table {
        name: table_name(namespace, table),
        alias: Some(table_alias(alias)),
        args: None,
        with_hints: vec![],
        version: None,
        with_ordinality: false,
        partitions: vec![],
        json_path: None,
        sample: None,
        index_hints: vec![],
    }
}

pub fn table_alias(alias: &str) -> TableAlias {
    TableAlias { explicit: true, name: ident(alias), columns: vec![], at: None }
}

/// `(subquery) AS "alias"`.
pub fn derived(subquery: Query, alias: &str, lateral: bool) -> TableFactor {
    TableFactor::Derived { lateral, subquery: Box::new(subquery), alias: Some(table_alias(alias)), sample: None }
}

pub fn from(relation: TableFactor) -> TableWithJoins {
    TableWithJoins { relation, joins: vec![] }
}

pub fn left_join(relation: TableFactor, on: Expr) -> Join {
    Join { relation, global: false, join_operator: JoinOperator::LeftOuter(JoinConstraint::On(on)) }
}

pub fn inner_join(relation: TableFactor, on: Expr) -> Join {
    Join { relation, global: false, join_operator: JoinOperator::Inner(JoinConstraint::On(on)) }
}

/// A `'...'` literal for fixed text chosen by the engine (never for user values).
pub fn string_lit(s: &str) -> Expr {
    Expr::Value(SqlValue::SingleQuotedString(s.to_owned()).with_empty_span())
}

pub fn int_lit(n: i64) -> Expr {
    Expr::Value(SqlValue::Number(n.to_string(), false).with_empty_span())
}

pub fn bool_lit(b: bool) -> Expr {
    Expr::Value(SqlValue::Boolean(b).with_empty_span())
}

pub fn null() -> Expr {
    Expr::Value(SqlValue::Null.with_empty_span())
}

/// A bare (unquoted) keyword-like name such as `CURRENT_TIMESTAMP`.
pub fn keyword(name: &str) -> Expr {
    Expr::Identifier(Ident::new(name))
}

pub fn binop(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp { left: Box::new(left), op, right: Box::new(right) }
}

pub fn eq(left: Expr, right: Expr) -> Expr {
    binop(left, BinaryOperator::Eq, right)
}

pub fn nested(e: Expr) -> Expr {
    match e {
        Expr::Nested(_)
        | Expr::CompoundIdentifier(_)
        | Expr::Identifier(_)
        | Expr::Value(_)
        | Expr::Function(_)
        | Expr::Subquery(_)
        | Expr::Exists { .. } => e,
        other => Expr::Nested(Box::new(other)),
    }
}

/// Conjunction; `TRUE` for none, the expression itself for one. A long list becomes a balanced
/// tree of `AND`s, depth log2(n): it renders as the same flat `a AND b AND c`, and every pass over
/// the tree (scope, rendering, dropping it) stays shallow however wide the list is.
pub fn and(items: Vec<Expr>) -> Expr {
    // Every item binds tighter than AND (disjunctions come parenthesized from `or`).
    let items: Vec<Expr> = items
        .into_iter()
        .map(|e| match e {
            Expr::BinaryOp { op: BinaryOperator::Or, .. } => Expr::Nested(Box::new(e)),
            other => other,
        })
        .collect();
    balanced(items, BinaryOperator::And).unwrap_or_else(|| bool_lit(true))
}

/// Disjunction; `FALSE` for none. Balanced like [`and`], and parenthesized.
pub fn or(mut items: Vec<Expr>) -> Expr {
    match items.len() {
        0 => bool_lit(false),
        1 => items.pop().unwrap_or_else(|| bool_lit(false)),
        _ => {
            let items = items.into_iter().map(nested).collect();
            Expr::Nested(Box::new(balanced(items, BinaryOperator::Or).unwrap_or_else(|| bool_lit(false))))
        }
    }
}

/// `items` joined by an associative operator as a balanced tree; `None` for no items.
fn balanced(mut items: Vec<Expr>, op: BinaryOperator) -> Option<Expr> {
    match items.len() {
        0 => None,
        1 => items.pop(),
        n => {
            let right = items.split_off(n / 2);
            let left = balanced(items, op.clone())?;
            let right = balanced(right, op.clone())?;
            Some(binop(left, op, right))
        }
    }
}

pub fn not(e: Expr) -> Expr {
    Expr::UnaryOp { op: UnaryOperator::Not, expr: Box::new(nested(e)) }
}

pub fn is_null(e: Expr) -> Expr {
    Expr::IsNull(Box::new(e))
}

pub fn is_not_null(e: Expr) -> Expr {
    Expr::IsNotNull(Box::new(e))
}

pub fn is_not_true(e: Expr) -> Expr {
    Expr::IsNotTrue(Box::new(nested(e)))
}

pub fn exists(q: Query, negated: bool) -> Expr {
    Expr::Exists { subquery: Box::new(q), negated }
}

pub fn subquery(q: Query) -> Expr {
    Expr::Subquery(Box::new(q))
}

/// `left op ANY(right)`.
pub fn any(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::AnyOp { left: Box::new(left), compare_op: op, right: Box::new(right), is_some: false }
}

/// `expr::type` with a type name written as the database spells it (`jsonb`, `text[]`).
pub fn cast(e: Expr, ty: &str) -> Expr {
    Expr::Cast {
        kind: CastKind::DoubleColon,
        expr: Box::new(nested(e)),
        data_type: DataType::Custom(ObjectName(vec![ObjectNamePart::Identifier(Ident::new(ty))]), vec![]),
        format: None,
    }
}

/// `CASE WHEN cond THEN then ELSE otherwise END`.
pub fn case_when(cond: Expr, then: Expr, otherwise: Option<Expr>) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen { condition: cond, result: then }],
        else_result: otherwise.map(Box::new),
    }
}

pub fn like(e: Expr, pattern: Expr, insensitive: bool, negated: bool) -> Expr {
    let escape_char = Some(Box::new(string_lit("\\")));
    if insensitive {
        Expr::ILike { negated, any: false, expr: Box::new(e), pattern: Box::new(pattern), escape_char }
    } else {
        Expr::Like { negated, any: false, expr: Box::new(e), pattern: Box::new(pattern), escape_char }
    }
}

fn args_list(args: Vec<Expr>, clauses: Vec<FunctionArgumentClause>, distinct: bool) -> FunctionArguments {
    FunctionArguments::List(FunctionArgumentList {
        duplicate_treatment: distinct.then_some(sqlparser::ast::DuplicateTreatment::Distinct),
        args: args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect(),
        clauses,
    })
}

fn function(name: &str, args: FunctionArguments, filter: Option<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args,
        within_group: vec![],
        filter: filter.map(Box::new),
        null_treatment: None,
        over: None,
    })
}

/// `name(args...)`.
pub fn func(name: &str, args: Vec<Expr>) -> Expr {
    function(name, args_list(args, vec![], false), None)
}

/// `name(DISTINCT args...)`.
pub fn func_distinct(name: &str, args: Vec<Expr>) -> Expr {
    function(name, args_list(args, vec![], true), None)
}

/// `COUNT(*)`.
pub fn count_star() -> Expr {
    function(
        "COUNT",
        FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Wildcard)],
            clauses: vec![],
        }),
        None,
    )
}

/// An aggregate with `ORDER BY` inside its argument list: `json_agg(x ORDER BY ...)`.
pub fn agg_ordered(name: &str, arg: Expr, order_by: Vec<OrderByExpr>) -> Expr {
    let clauses = if order_by.is_empty() { vec![] } else { vec![FunctionArgumentClause::OrderBy(order_by)] };
    function(name, args_list(vec![arg], clauses, false), None)
}

pub fn order_expr(expr: Expr, desc: bool, nulls_first: Option<bool>) -> OrderByExpr {
    OrderByExpr {
        expr,
        options: OrderByOptions { sort: Some(if desc { OrderBySort::Desc } else { OrderBySort::Asc }), nulls_first },
        with_fill: None,
    }
}

pub fn star() -> SelectItem {
    SelectItem::Wildcard(Default::default())
}

pub fn item(e: Expr) -> SelectItem {
    SelectItem::UnnamedExpr(e)
}

pub fn item_as(e: Expr, alias: &str) -> SelectItem {
    SelectItem::ExprWithAlias { expr: e, alias: ident(alias) }
}

/// The parts of a `SELECT` the planner fills in; everything else takes its empty default.
#[derive(Default)]
pub struct SelectSpec {
    pub distinct_on: Vec<Expr>,
    pub projection: Vec<SelectItem>,
    pub from: Vec<TableWithJoins>,
    pub selection: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub order_by: Vec<OrderByExpr>,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
}

impl SelectSpec {
    pub fn into_query(self) -> Query {
        let select = Select {
            select_token: AttachedToken::empty(),
            optimizer_hints: vec![],
            distinct: if self.distinct_on.is_empty() { None } else { Some(Distinct::On(self.distinct_on)) },
            select_modifiers: None,
            top: None,
            top_before_distinct: false,
            projection: self.projection,
            exclude: None,
            into: None,
            from: self.from,
            lateral_views: vec![],
            prewhere: None,
            selection: self.selection,
            connect_by: vec![],
            group_by: GroupByExpr::Expressions(self.group_by, vec![]),
            cluster_by: vec![],
            distribute_by: vec![],
            sort_by: vec![],
            having: self.having,
            named_window: vec![],
            qualify: None,
            window_before_qualify: false,
            value_table_mode: None,
            flavor: SelectFlavor::Standard,
        };
        query(SetExpr::Select(Box::new(select)), self.order_by, self.limit, self.offset)
    }
}

pub fn query(body: SetExpr, order_by: Vec<OrderByExpr>, limit: Option<Expr>, offset: Option<Expr>) -> Query {
    let limit_clause = if limit.is_none() && offset.is_none() {
        None
    } else {
        Some(LimitClause::LimitOffset {
            limit,
            offset: offset.map(|value| Offset { value, rows: OffsetRows::None }),
            limit_by: vec![],
        })
    };
    Query {
        with: None,
        body: Box::new(body),
        order_by: if order_by.is_empty() {
            None
        } else {
            Some(OrderBy { kind: OrderByKind::Expressions(order_by), interpolate: None })
        },
        limit_clause,
        fetch: None,
        locks: vec![],
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: vec![],
    }
}

/// `query FOR UPDATE`: the rows it reads are about to be written (the scope stage reads such a
/// query with the write predicate).
pub fn for_update(mut q: Query) -> Query {
    q.locks.push(sqlparser::ast::LockClause { lock_type: sqlparser::ast::LockType::Update, of: None, nonblock: None });
    q
}

/// Renders a statement for a dialect. PostgreSQL keeps `$n` placeholders; for MySQL they become
/// `?` and the parameters are reordered to match their textual order.
pub fn render(stmt: &Statement, params: &[Value], dialect: Dialect) -> (String, Vec<Value>) {
    let text = stmt.to_string();
    match dialect {
        Dialect::Postgres => (text, params.to_vec()),
        Dialect::Mysql => positional(&text, params),
    }
}

/// [`render`] for a statement whose PostgreSQL text was rendered before (a cached plan's).
pub fn render_text(text: &str, params: &[Value], dialect: Dialect) -> (String, Vec<Value>) {
    match dialect {
        Dialect::Postgres => (text.to_owned(), params.to_vec()),
        Dialect::Mysql => positional(text, params),
    }
}

/// Rewrites PostgreSQL-rendered text for MySQL: `$n` placeholders outside quotes become `?` (the
/// parameters are returned in the order they now appear, repeated where a placeholder repeats),
/// `"identifiers"` become `` `identifiers` ``, and backslashes inside `'strings'` are doubled
/// (MySQL reads them as escapes; the engine's literals mean them literally).
fn positional(text: &str, params: &[Value]) -> (String, Vec<Value>) {
    let mut out = String::with_capacity(text.len());
    let mut ordered = Vec::with_capacity(params.len());
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match quote {
            Some('"') => {
                if c == '"' {
                    if chars.peek().is_some_and(|(_, d)| *d == '"') {
                        chars.next();
                        out.push('"');
                    } else {
                        quote = None;
                        out.push('`');
                    }
                } else if c == '`' {
                    out.push_str("``");
                } else {
                    out.push(c);
                }
            }
            Some(q) => {
                if c == '\\' && q == '\'' {
                    out.push_str("\\\\");
                    continue;
                }
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '"' => {
                quote = Some(c);
                out.push('`');
            }
            None if c == '\'' || c == '`' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) => {
                let mut n = 0usize;
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    n = n * 10 + (d as usize - '0' as usize);
                    chars.next();
                }
                match params.get(n.wrapping_sub(1)) {
                    // A list (the rows an earlier statement read, in `IN ($n)`) is spread into one
                    // placeholder per value; an empty list is a NULL that matches nothing.
                    Some(Value::List(items)) if items.is_empty() => out.push_str("NULL"),
                    Some(Value::List(items)) => {
                        // A list of tuples (a key set for `(a, b) IN ($n)`): `(?, ?), (?, ?)`.
                        let mut first = true;
                        for item in items {
                            if !first {
                                out.push_str(", ");
                            }
                            first = false;
                            match item {
                                Value::List(tuple) => {
                                    out.push('(');
                                    out.push_str(&vec!["?"; tuple.len()].join(", "));
                                    out.push(')');
                                    ordered.extend(tuple.iter().cloned());
                                }
                                v => {
                                    out.push('?');
                                    ordered.push(v.clone());
                                }
                            }
                        }
                    }
                    other => {
                        out.push('?');
                        ordered.push(other.cloned().unwrap_or(Value::Null));
                    }
                }
            }
            None => out.push(c),
        }
    }
    (out, ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(col("t0", "we\"ird").to_string(), r#""t0"."we""ird""#);
        assert_eq!(table_name(Some("app"), "User").to_string(), r#""app"."User""#);
    }

    #[test]
    fn mysql_placeholders_follow_text_order() {
        let (sql, params) = positional("SELECT $2, '$1', $1", &[Value::Int(1), Value::Int(2)]);
        assert_eq!(sql, "SELECT ?, '$1', ?");
        assert_eq!(params, vec![Value::Int(2), Value::Int(1)]);
    }

    #[test]
    fn mysql_spreads_list_parameters() {
        let tuples = Value::List(vec![Value::List(vec![Value::Int(1), Value::Int(2)]), Value::List(vec![Value::Int(3), Value::Int(4)])]);
        let (sql, params) = positional("(a, b) IN ($1)", &[tuples]);
        assert_eq!(sql, "(a, b) IN ((?, ?), (?, ?))");
        assert_eq!(params, vec![Value::Int(1), Value::Int(2), Value::Int(3), Value::Int(4)]);
        let list = Value::List(vec![Value::Int(1), Value::Int(2)]);
        let (sql, params) = positional("x IN ($1) AND y IN ($2)", &[list, Value::List(vec![])]);
        assert_eq!(sql, "x IN (?, ?) AND y IN (NULL)");
        assert_eq!(params, vec![Value::Int(1), Value::Int(2)]);
    }

    #[test]
    fn mysql_quotes_identifiers_with_backticks_and_escapes_backslashes() {
        let (sql, params) = positional(r#"SELECT "t0"."we""ird`", 'a\b''c' FROM "T" WHERE x = $1 AND y = $1"#, &[Value::Int(7)]);
        assert_eq!(sql, r#"SELECT `t0`.`we"ird```, 'a\\b''c' FROM `T` WHERE x = ? AND y = ?"#);
        assert_eq!(params, vec![Value::Int(7), Value::Int(7)]);
    }
}

/// `"alias".*`.
pub fn qualified_star(alias: &str) -> SelectItem {
    SelectItem::QualifiedWildcard(
        sqlparser::ast::SelectItemQualifiedWildcardKind::ObjectName(ObjectName(vec![ObjectNamePart::Identifier(ident(alias))])),
        Default::default(),
    )
}

/// The last part of a table name (`"ns"."User"` -> `User`) and its namespace if qualified.
pub fn split_table_name(name: &ObjectName) -> Option<(Option<&str>, &str)> {
    let idents: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
    if idents.len() != name.0.len() {
        return None;
    }
    match idents.as_slice() {
        [t] => Some((None, t.value.as_str())),
        [ns, t] => Some((Some(ns.value.as_str()), t.value.as_str())),
        _ => None,
    }
}

/// The `DEFAULT` keyword in a VALUES row.
pub fn default_kw() -> Expr {
    Expr::Identifier(Ident::new("DEFAULT"))
}

fn column_names(columns: &[String]) -> Vec<ObjectName> {
    columns.iter().map(|c| ObjectName(vec![ObjectNamePart::Identifier(ident(c))])).collect()
}

/// What an INSERT does when a row conflicts with a unique index.
pub enum Conflict {
    DoNothing,
    /// `ON CONFLICT (columns) DO UPDATE SET ...` (the target table is referenced by its name).
    Update { columns: Vec<String>, assignments: Vec<(String, Expr)> },
}

/// `INSERT INTO table (columns) VALUES rows [ON CONFLICT ...] [RETURNING ...]`.
pub fn insert(table: ObjectName, columns: Vec<String>, rows: Vec<Vec<Expr>>, conflict: Option<Conflict>, returning: Vec<SelectItem>) -> Statement {
    use sqlparser::ast::{
        DoUpdate, Insert, OnConflict, OnConflictAction, OnInsert, Parens, TableObject, Values,
    };
    let body = if rows.is_empty() || columns.is_empty() {
        // `INSERT ... DEFAULT VALUES` is not in the AST; a row of DEFAULT for the first column of
        // an identity-only table is equivalent.
        SetExpr::Values(Values { explicit_row: false, value_keyword: false, rows: vec![] })
    } else {
        SetExpr::Values(Values {
            explicit_row: false,
            value_keyword: false,
            rows: rows
                .into_iter()
                .map(|content| Parens { opening_token: AttachedToken::empty(), content, closing_token: AttachedToken::empty() })
                .collect(),
        })
    };
    let on = conflict.map(|c| match c {
        Conflict::DoNothing => OnInsert::OnConflict(OnConflict { conflict_target: None, action: OnConflictAction::DoNothing }),
        Conflict::Update { columns, assignments } => OnInsert::OnConflict(OnConflict {
            conflict_target: Some(sqlparser::ast::ConflictTarget::Columns(columns.iter().map(|c| ident(c)).collect())),
            action: OnConflictAction::DoUpdate(DoUpdate { assignments: assignments_of(assignments), selection: None }),
        }),
    });
    Statement::Insert(Insert {
        insert_token: AttachedToken::empty(),
        optimizer_hints: vec![],
        or: None,
        ignore: false,
        into: true,
        table: TableObject::TableName(table),
        table_alias: None,
        columns: column_names(&columns),
        overwrite: false,
        source: Some(Box::new(query(body, vec![], None, None))),
        assignments: vec![],
        partitioned: None,
        after_columns: vec![],
        has_table_keyword: false,
        on,
        returning: if returning.is_empty() { None } else { Some(returning) },
        output: None,
        replace_into: false,
        priority: None,
        insert_alias: None,
        settings: None,
        format_clause: None,
        multi_table_insert_type: None,
        multi_table_into_clauses: vec![],
        multi_table_when_clauses: vec![],
        multi_table_else_clause: None,
    })
}

fn assignments_of(assignments: Vec<(String, Expr)>) -> Vec<sqlparser::ast::Assignment> {
    assignments
        .into_iter()
        .map(|(c, value)| sqlparser::ast::Assignment {
            target: sqlparser::ast::AssignmentTarget::ColumnName(ObjectName(vec![ObjectNamePart::Identifier(ident(&c))])),
            value,
        })
        .collect()
}

/// `UPDATE table AS alias SET ... WHERE ... [RETURNING ...]`.
pub fn update(table: TableFactor, assignments: Vec<(String, Expr)>, selection: Option<Expr>, returning: Vec<SelectItem>) -> Statement {
    Statement::Update(sqlparser::ast::Update {
        update_token: AttachedToken::empty(),
        optimizer_hints: vec![],
        table: from(table),
        assignments: assignments_of(assignments),
        from: None,
        selection,
        returning: if returning.is_empty() { None } else { Some(returning) },
        output: None,
        or: None,
        order_by: vec![],
        limit: None,
    })
}

/// `DELETE FROM table AS alias WHERE ... [RETURNING ...]`.
pub fn delete(table: TableFactor, selection: Option<Expr>, returning: Vec<SelectItem>) -> Statement {
    Statement::Delete(sqlparser::ast::Delete {
        delete_token: AttachedToken::empty(),
        optimizer_hints: vec![],
        tables: vec![],
        from: sqlparser::ast::FromTable::WithFromKeyword(vec![from(table)]),
        using: None,
        selection,
        returning: if returning.is_empty() { None } else { Some(returning) },
        output: None,
        order_by: vec![],
        limit: None,
    })
}

/// A row-valued IN: `(a, b) IN (subquery)`, or `a IN (subquery)` for one column.
pub fn in_subquery(left: Vec<Expr>, q: Query, negated: bool) -> Expr {
    let expr = if left.len() == 1 { left.into_iter().next().unwrap_or_else(null) } else { Expr::Tuple(left) };
    Expr::InSubquery { expr: Box::new(expr), subquery: Box::new(q), negated }
}

/// `"namespace"."table"` without an alias (columns are then qualified by the table name).
pub fn table_plain(namespace: Option<&str>, table: &str) -> TableFactor {
    TableFactor::Table {
        name: table_name(namespace, table),
        alias: None,
        args: None,
        with_hints: vec![],
        version: None,
        with_ordinality: false,
        partitions: vec![],
        json_path: None,
        sample: None,
        index_hints: vec![],
    }
}

/// A set-returning function in FROM: `unnest($1, $2)`.
pub fn function_table(name: &str, args: Vec<Expr>) -> TableFactor {
    TableFactor::Table {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        alias: None,
        args: Some(sqlparser::ast::TableFunctionArgs {
            args: args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect(),
            settings: None,
        }),
        with_hints: vec![],
        version: None,
        with_ordinality: false,
        partitions: vec![],
        json_path: None,
        sample: None,
        index_hints: vec![],
    }
}

/// `WITH RECURSIVE name AS (base UNION step) body`.
pub fn with_recursive(name: &str, columns: &[String], base: Query, step: Query, body: Query) -> Query {
    use sqlparser::ast::{Cte, SetOperator, SetQuantifier, TableAliasColumnDef, With};
    let union = SetExpr::SetOperation {
        left: Box::new(SetExpr::Query(Box::new(base))),
        op: SetOperator::Union,
        set_quantifier: SetQuantifier::None,
        right: Box::new(SetExpr::Query(Box::new(step))),
    };
    let mut alias = table_alias(name);
    alias.explicit = false;
    alias.columns = columns.iter().map(|c| TableAliasColumnDef { name: ident(c), data_type: None }).collect();
    let cte = Cte {
        alias,
        query: Box::new(query(union, vec![], None, None)),
        from: None,
        materialized: None,
        closing_paren_token: AttachedToken::empty(),
    };
    Query { with: Some(With { with_token: AttachedToken::empty(), recursive: true, cte_tables: vec![cte] }), ..body }
}

/// `CAST(expr AS type)`, the standard form MySQL accepts (`CHAR`, `SIGNED`, `DOUBLE`).
pub fn cast_std(e: Expr, ty: &str) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(e),
        data_type: DataType::Custom(ObjectName(vec![ObjectNamePart::Identifier(Ident::new(ty))]), vec![]),
        format: None,
    }
}

/// `expr IN (a, b, ...)`; `FALSE` for an empty list.
pub fn in_list(e: Expr, list: Vec<Expr>) -> Expr {
    if list.is_empty() {
        return bool_lit(false);
    }
    Expr::InList { expr: Box::new(e), list, negated: false }
}

/// `ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...)`.
pub fn row_number(partition_by: Vec<Expr>, order_by: Vec<OrderByExpr>) -> Expr {
    let Expr::Function(mut f) = function("ROW_NUMBER", args_list(vec![], vec![], false), None) else { return null() };
    f.over = Some(sqlparser::ast::WindowType::WindowSpec(sqlparser::ast::WindowSpec {
        window_name: None,
        partition_by,
        order_by,
        window_frame: None,
    }));
    Expr::Function(f)
}

/// `GROUP_CONCAT(expr ORDER BY ... SEPARATOR 'sep')` (MySQL and MariaDB).
pub fn group_concat(e: Expr, order_by: Vec<OrderByExpr>, separator: &str) -> Expr {
    let mut clauses = Vec::new();
    if !order_by.is_empty() {
        clauses.push(FunctionArgumentClause::OrderBy(order_by));
    }
    clauses.push(FunctionArgumentClause::Separator(SqlValue::SingleQuotedString(separator.to_owned()).with_empty_span()));
    function("GROUP_CONCAT", args_list(vec![e], clauses, false), None)
}

/// `left = ANY(list)` (PostgreSQL) or `left IN (list)` (MySQL, where the list parameter is
/// spread into one placeholder per value when rendered).
pub fn eq_any(mysql: bool, left: Expr, list: Expr) -> Expr {
    if mysql { in_list(left, vec![list]) } else { any(left, BinaryOperator::Eq, list) }
}
