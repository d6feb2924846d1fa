//! Raw SQL (`$queryRaw`, `$executeRaw`) through tenant scope.
//!
//! Without a tenant context on a schema that has no tenant-scoped models, and in the explicit
//! unscoped context, raw SQL runs as given. Otherwise it is parsed (PostgreSQL dialect) and must be
//! one SELECT, INSERT, UPDATE or DELETE that names only the schema's tables and calls only known
//! built-in functions; anything else — DDL, SET / RESET / DISCARD / SET ROLE, `set_config`, DO,
//! COPY, TRUNCATE, LOCK, several statements, unparseable text — is refused with `Q3004`.
//! Without a tenant context a statement that touches a scoped table fails closed (`Q3001`).
//!
//! Under a tenant the statement is rewritten and rendered again from its tree:
//! - every table reference a query reads (FROM, JOIN, subqueries, CTEs, set operations, LATERAL,
//!   the FROM of UPDATE and the USING of DELETE) becomes
//!   `(SELECT * FROM t WHERE <tenant predicate> OFFSET 0) AS alias`; the `OFFSET 0` keeps
//!   PostgreSQL from pulling the subquery up or pushing the statement's own conditions into it,
//!   so no user expression is ever evaluated on another tenant's row (only comparisons that cannot
//!   raise are copied in, for index lookups);
//! - the target of an UPDATE or DELETE gets the write predicate, and the statement's own WHERE
//!   runs behind it (`pred AND CASE WHEN pred THEN (where) ELSE false END`);
//! - an INSERT gets the tenant column (bound as a new parameter `$n+1`) or must give the current
//!   tenant; no assignment may move a row to another tenant;
//! - a foreign key written to a tenant-scoped model must be a parameter or literal and name a row
//!   the tenant can see (checked by a guard statement first, `P2003` otherwise).
//!
//! A final count checks that every reference to a scoped table was rewritten.
//!
//! The dialect is the schema's: PostgreSQL, or MySQL (MariaDB). With MySQL the text is read as
//! MySQL reads it (backtick identifiers, `\` escapes in strings, `#` comments, `?` placeholders,
//! turned into `$1..$n` for the scope pass) and refused when MySQL would run something the
//! parser does not see or that changes the session: executable comments (`/*! ... */`,
//! `/*M! ... */`), user and system variables (`@v`, `@@v`, `:=`), `ON DUPLICATE KEY UPDATE`,
//! functions outside a MySQL allow-list (`LOAD_FILE`, `SLEEP`, `GET_LOCK`, ...). Unquoted
//! column names are case-insensitive in MySQL: they are spelled as the schema spells them before
//! the scope pass compares them. Fences are `LIMIT 18446744073709551615` (MySQL has no OFFSET
//! without LIMIT), which also keeps MySQL and MariaDB from merging the derived table.

use super::foreign_keys;
use super::{Origin, RelationCounter, Scoper, TenantContext, is_scoped, model_of};
use crate::error::{Error, Result, codes};
use crate::plan::Step;
use crate::schema::{ModelId, ModelTenancy, RelationLink, Schema};
use crate::sql::{self, Param, Stmt};
use crate::value::Value;
use sqlparser::ast::{
    AssignmentTarget, Expr, FromTable, Ident, ObjectName, ObjectNamePart, OnConflictAction, OnInsert, Query, Select, SetExpr,
    Statement, TableFactor, TableObject, Value as SqlValue, ValueWithSpan, Visit, VisitMut, VisitorMut,
};
use crate::exec::Dialect;
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;
use std::collections::HashSet;
use std::ops::ControlFlow;

/// What to run for a raw statement.
#[derive(Debug)]
pub enum Scoped {
    /// The text as given, with the given parameters.
    Verbatim,
    /// The statement rendered from its (rewritten) tree, after `guards` (each must return no row).
    Rewritten { stmt: Box<Stmt>, guards: Vec<Step> },
}

/// Built-in functions raw SQL may call under a tenant context: functions that compute a value from
/// their arguments and do not read tables by name, run SQL text or change session state.
const FUNCTIONS: &[&str] = &[
    // aggregates and window functions
    "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "json_agg", "jsonb_agg", "json_object_agg",
    "jsonb_object_agg", "bool_and", "bool_or", "every", "bit_and", "bit_or", "stddev", "stddev_pop", "stddev_samp",
    "variance", "var_pop", "var_samp", "percentile_cont", "percentile_disc", "mode", "row_number", "rank", "dense_rank",
    "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    // conditional
    "coalesce", "nullif", "greatest", "least",
    // numbers
    "abs", "ceil", "ceiling", "floor", "round", "trunc", "mod", "power", "pow", "sqrt", "exp", "ln", "log", "sign",
    "div", "random", "width_bucket",
    // text
    "lower", "upper", "initcap", "length", "char_length", "character_length", "octet_length", "concat", "concat_ws",
    "substr", "substring", "left", "right", "lpad", "rpad", "ltrim", "rtrim", "btrim", "trim", "replace", "reverse",
    "repeat", "split_part", "strpos", "position", "starts_with", "format", "md5", "to_char", "to_number", "regexp_replace",
    "regexp_match", "regexp_matches", "regexp_split_to_array", "string_to_array", "array_to_string", "translate", "chr",
    "ascii", "encode", "decode", "quote_literal", "quote_ident", "quote_nullable",
    // dates
    "now", "current_timestamp", "current_date", "current_time", "localtimestamp", "localtime", "date_trunc",
    "date_part", "extract", "age", "to_timestamp", "to_date", "make_date", "make_time", "make_timestamp",
    "make_timestamptz", "make_interval", "date_bin", "clock_timestamp", "statement_timestamp",
    "transaction_timestamp", "timezone", "isfinite", "justify_days", "justify_hours", "justify_interval",
    // json
    "to_json", "to_jsonb", "row_to_json", "json_build_object", "jsonb_build_object", "json_build_array",
    "jsonb_build_array", "json_object", "jsonb_object", "json_array_length", "jsonb_array_length", "json_extract_path",
    "jsonb_extract_path", "json_extract_path_text", "jsonb_extract_path_text", "json_typeof", "jsonb_typeof",
    "jsonb_set", "jsonb_insert", "jsonb_strip_nulls", "json_strip_nulls", "jsonb_pretty", "json_array_elements",
    "jsonb_array_elements", "json_array_elements_text", "jsonb_array_elements_text", "json_each", "jsonb_each",
    "json_each_text", "jsonb_each_text", "json_object_keys", "jsonb_object_keys", "jsonb_path_query",
    "jsonb_path_exists", "jsonb_path_match", "jsonb_path_query_array", "jsonb_path_query_first",
    // arrays and sets
    "array", "array_length", "array_upper", "array_lower", "array_position", "array_positions", "array_append",
    "array_prepend", "array_cat", "array_remove", "array_replace", "cardinality", "unnest", "generate_series",
    "generate_subscripts", "row",
    // other pure functions
    "gen_random_uuid", "num_nonnulls", "num_nulls",
];

/// Functions refused with a message of their own: they change session or transaction state.
const SESSION_FUNCTIONS: &[&str] = &["set_config", "pg_advisory_lock", "pg_advisory_xact_lock", "pg_terminate_backend", "pg_cancel_backend"];

/// The MySQL counterpart of [`FUNCTIONS`]: built-in functions that compute a value from their
/// arguments (and the clock), read no table, file or session state and change nothing.
const MYSQL_FUNCTIONS: &[&str] = &[
    // aggregates and window functions
    "count", "sum", "avg", "min", "max", "group_concat", "json_arrayagg", "json_objectagg", "bit_and", "bit_or",
    "bit_xor", "std", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "row_number", "rank",
    "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    // conditional
    "coalesce", "nullif", "ifnull", "if", "isnull", "greatest", "least",
    // numbers
    "abs", "ceil", "ceiling", "floor", "round", "truncate", "mod", "pow", "power", "sqrt", "exp", "ln", "log", "log2",
    "log10", "sign", "rand", "pi", "degrees", "radians", "sin", "cos", "tan", "conv", "crc32", "bin", "oct",
    // text
    "lower", "upper", "lcase", "ucase", "length", "char_length", "character_length", "octet_length", "bit_length",
    "concat", "concat_ws", "substr", "substring", "substring_index", "mid", "left", "right", "lpad", "rpad", "ltrim",
    "rtrim", "trim", "replace", "reverse", "repeat", "space", "locate", "instr", "position", "strcmp", "field",
    "find_in_set", "elt", "format", "md5", "sha1", "sha", "sha2", "hex", "unhex", "to_base64", "from_base64", "ascii",
    "ord", "char", "regexp_replace", "regexp_substr", "regexp_instr", "regexp_like", "quote", "soundex",
    // dates
    "now", "current_timestamp", "current_date", "current_time", "curdate", "curtime", "utc_timestamp", "utc_date",
    "utc_time", "localtime", "localtimestamp", "date", "time", "year", "month", "day", "dayofmonth", "dayofweek",
    "dayofyear", "hour", "minute", "second", "microsecond", "week", "weekday", "quarter", "monthname", "dayname",
    "last_day", "date_add", "date_sub", "adddate", "subdate", "addtime", "subtime", "datediff", "timediff",
    "timestampdiff", "timestampadd", "date_format", "time_format", "str_to_date", "from_unixtime", "unix_timestamp",
    "makedate", "maketime", "extract", "to_days", "from_days",
    // json
    "json_extract", "json_unquote", "json_object", "json_array", "json_length", "json_contains", "json_contains_path",
    "json_keys", "json_type", "json_valid", "json_set", "json_insert", "json_replace", "json_remove",
    "json_merge_patch", "json_merge_preserve", "json_quote", "json_search", "json_depth", "json_value",
    "json_overlaps",
    // other pure functions
    "uuid",
];

/// MySQL functions refused with a message of their own: they read files, wait, take locks or
/// read or change session state.
const MYSQL_SESSION_FUNCTIONS: &[&str] = &[
    "load_file", "sleep", "benchmark", "get_lock", "release_lock", "release_all_locks", "is_free_lock", "is_used_lock",
    "master_pos_wait", "source_pos_wait", "last_insert_id", "found_rows", "row_count", "connection_id", "database",
    "schema", "user", "current_user", "session_user", "system_user", "version", "name_const", "values", "value",
    "setval", "nextval", "lastval",
];

/// The fence's row limit on MySQL: LIMIT is required for OFFSET there, and a derived table with a
/// LIMIT is neither merged into the outer query nor given its conditions.
const MYSQL_FENCE_LIMIT: &str = "18446744073709551615";

fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL",
    }
}

fn refused(message: impl Into<String>) -> Error {
    Error::new(codes::RAW_SQL_REFUSED, message)
}

/// Applies tenant scope to a raw statement. `params` are the request's parameters (`$1..$n` in
/// PostgreSQL, `?` in MySQL, which the statement then carries as `$1..$n` in order).
pub fn scope_raw(
    schema: &Schema,
    namespace: Option<&str>,
    ctx: &TenantContext,
    text: &str,
    params: &[Value],
    dialect: Dialect,
) -> Result<Scoped> {
    let any_scoped = schema.model_ids().any(|m| is_scoped(schema, m));
    let tenant = match ctx {
        TenantContext::Unscoped => return Ok(Scoped::Verbatim),
        TenantContext::Missing if !any_scoped => return Ok(Scoped::Verbatim),
        TenantContext::Missing => None,
        TenantContext::Tenant(t) => Some(t),
    };
    let ast = parse_in(text, dialect, Some(schema))?;
    let mut stmt = Stmt { ast, params: params.iter().cloned().map(Param::Value).collect() };
    check_placeholders(&stmt.ast, params.len(), dialect)?;
    let mut check = Check::new(schema, namespace, dialect);
    check.statement(&stmt.ast)?;
    let _ = VisitMut::visit(&mut stmt.ast, &mut check);
    if let Some(e) = check.error {
        return Err(e);
    }
    fold_write_names(&mut stmt.ast, dialect);
    if tenant.is_none() {
        // No tenant context: statements on scoped tables fail closed.
        if let Some(model) = check.scoped.first() {
            let name = &schema.model(*model).name;
            return Err(Error::new(
                codes::TENANT_REQUIRED,
                format!("model {name} is tenant-scoped: run raw SQL for a tenant ($forTenant) or explicitly unscoped ($unscoped)"),
            )
            .with_meta("model", name.clone()));
        }
        // Rows of unscoped models that tenant rows refer to are only deleted or re-keyed
        // explicitly unscoped, as for requests.
        let Stmt { ast, params } = &mut stmt;
        let mut scoper = Scoper {
            schema,
            namespace,
            tenant: None,
            params,
            tenant_expr: None,
            handled: 0,
            error: None,
            locking: Vec::new(),
            access: Vec::new(),
        };
        scoper.scope_statement(ast)?;
        return Ok(Scoped::Rewritten { stmt: Box::new(stmt), guards: vec![] });
    }
    let guards = rewrite(schema, namespace, ctx, tenant, &mut stmt, dialect)?;
    Ok(Scoped::Rewritten { stmt: Box::new(stmt), guards })
}

fn parse_error(e: sqlparser::parser::ParserError, dialect: Dialect) -> Error {
    // The parser's message quotes the text it stopped at; keep only where it stopped.
    let msg = e.to_string();
    let at = msg.find(" at Line: ").map(|i| msg[i + 4..].to_owned());
    let name = dialect_name(dialect);
    let mut err = refused(match &at {
        Some(at) => format!("the raw SQL could not be parsed as a {name} statement ({at})"),
        None => format!("the raw SQL could not be parsed as a {name} statement"),
    });
    if let Some(at) = at {
        err = err.with_meta("position", at);
    }
    err
}

/// How deep the parser may recurse (parentheses, subqueries, prefix operators): sqlparser's default.
const RAW_RECURSION_LIMIT: usize = 50;

/// The most levels a raw statement's tree may have, as [`check_depth`] bounds it. Every pass over
/// the tree (parsing, scope, rendering, dropping it) recurses once per level, and the WebAssembly
/// engine has a 1 MiB stack: an `OR` chain of 2,000 terms overflowed it.
pub const RAW_MAX_DEPTH: usize = 1_000;

/// What a pair of parentheses (a nested expression or a subquery) adds to the depth bound.
const PAREN_LEVELS: usize = 4;

/// Refuses a statement whose tree could be deeper than [`RAW_MAX_DEPTH`], from its tokens,
/// before a tree exists. The parser builds a chain of binary operators (`a OR b OR c ...`,
/// `1 + 2 + 3 ...`, `UNION`s) in a loop, one level per operator, without touching its own
/// recursion limit; so between commas (which separate list items: a select list, `IN (...)`,
/// `VALUES`) every operator and keyword counts as a level, identifiers and literals do not, and
/// parentheses add their contents' depth. An upper bound: long `CASE` expressions may be refused
/// though flat.
fn check_depth(tokens: &[sqlparser::tokenizer::TokenWithSpan]) -> Result<()> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    #[derive(Default)]
    struct Level {
        /// Operators in the current comma-separated segment.
        ops: usize,
        /// The deepest parenthesized group in the current segment.
        child: usize,
        /// The deepest segment closed so far.
        max: usize,
    }
    impl Level {
        fn close_segment(&mut self) {
            self.max = self.max.max(self.ops + self.child);
            self.ops = 0;
            self.child = 0;
        }
        fn depth(mut self) -> usize {
            self.close_segment();
            self.max
        }
    }
    let mut stack = vec![Level::default()];
    let close = |stack: &mut Vec<Level>| {
        if stack.len() > 1 {
            let depth = stack.pop().map_or(0, Level::depth) + PAREN_LEVELS;
            if let Some(top) = stack.last_mut() {
                top.child = top.child.max(depth);
            }
        }
    };
    for t in tokens {
        match &t.token {
            Token::LParen | Token::LBracket | Token::LBrace => stack.push(Level::default()),
            Token::RParen | Token::RBracket | Token::RBrace => close(&mut stack),
            Token::Comma | Token::SemiColon => {
                if let Some(top) = stack.last_mut() {
                    top.close_segment();
                }
            }
            Token::Whitespace(_)
            | Token::EOF
            | Token::Placeholder(_)
            | Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::SingleQuotedByteStringLiteral(_) => {}
            Token::Word(w) if w.keyword == Keyword::NoKeyword || w.quote_style.is_some() => {}
            _ => {
                if let Some(top) = stack.last_mut() {
                    top.ops += 1;
                }
            }
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    let depth = stack.pop().map_or(0, Level::depth);
    if depth > RAW_MAX_DEPTH {
        return Err(refused(format!(
            "the raw SQL nests deeper than the limit of {RAW_MAX_DEPTH} levels (about {depth}): a long chain of \
             OR, AND or another operator is as deep as it is long; for a long list of values use IN (...) or = ANY($1)"
        ))
        .with_meta("path", "args.query")
        .with_meta("limit", RAW_MAX_DEPTH));
    }
    Ok(())
}

/// Exactly one SELECT, INSERT, UPDATE or DELETE, parsed in `dialect`. Only the parser's entry
/// points for these are called, so the rest of the parser (DDL and every other statement) stays
/// out of the Wasm module; any other statement is refused by its first keyword. With MySQL,
/// `schema` spells column names as the schema does (see [`mysql_tokens`]).
pub(crate) fn parse_in(text: &str, dialect: Dialect, schema: Option<&Schema>) -> Result<Statement> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    let (pg, my) = (PostgreSqlDialect {}, MySqlDialect {});
    let parser_dialect: &dyn sqlparser::dialect::Dialect = match dialect {
        Dialect::Postgres => &pg,
        Dialect::Mysql => &my,
    };
    let mut tokens = sqlparser::tokenizer::Tokenizer::new(parser_dialect, text)
        .tokenize_with_location()
        .map_err(|e| parse_error(e.into(), dialect))?;
    match dialect {
        Dialect::Postgres => check_quotes(&tokens, '"', true)?,
        Dialect::Mysql => mysql_tokens(text, &mut tokens, schema)?,
    }
    check_depth(&tokens)?;
    let mut p = Parser::new(parser_dialect).with_recursion_limit(RAW_RECURSION_LIMIT).with_tokens_with_locations(tokens);
    let first = p.peek_token();
    let stmt = match &first.token {
        Token::Word(w) if w.quote_style.is_none() => match w.keyword {
            Keyword::SELECT | Keyword::WITH | Keyword::VALUES => Statement::Query(p.parse_query().map_err(|e| parse_error(e, dialect))?),
            Keyword::INSERT => {
                let t = p.next_token();
                p.parse_insert(t).map_err(|e| parse_error(e, dialect))?
            }
            Keyword::UPDATE => {
                let t = p.next_token();
                p.parse_update(t).map_err(|e| parse_error(e, dialect))?
            }
            Keyword::DELETE => {
                let t = p.next_token();
                p.parse_delete(t).map_err(|e| parse_error(e, dialect))?
            }
            _ => return Err(refused_keyword(&w.value)),
        },
        Token::LParen => Statement::Query(p.parse_query().map_err(|e| parse_error(e, dialect))?),
        Token::EOF => return Err(refused("the raw SQL holds no statement")),
        _ => return Err(refused(format!("the raw SQL could not be parsed as a {} statement", dialect_name(dialect)))),
    };
    while p.consume_token(&Token::SemiColon) {}
    if p.peek_token().token != Token::EOF {
        return Err(refused("the raw SQL holds more than one statement: run one statement per call"));
    }
    Ok(stmt)
}

/// The statement is rendered again from its tree, and sqlparser writes a quote that follows a
/// backslash inside a string or a quoted name as it is, without doubling it: `'a\'` would then end
/// the literal somewhere else than where the parser ended it. Such literals and names are refused
/// (`ident_quote` is the dialect's identifier quote; `strings`: check string literals too).
fn check_quotes(tokens: &[sqlparser::tokenizer::TokenWithSpan], ident_quote: char, strings: bool) -> Result<()> {
    use sqlparser::tokenizer::Token;
    for t in tokens {
        let bad = match &t.token {
            Token::SingleQuotedString(v)
            | Token::NationalStringLiteral(v)
            | Token::SingleQuotedByteStringLiteral(v)
            | Token::SingleQuotedRawStringLiteral(v)
            | Token::UnicodeStringLiteral(v) => strings && v.contains("\\'"),
            Token::DoubleQuotedString(v) => strings && v.contains("\\\""),
            Token::Word(w) => w.quote_style == Some(ident_quote) && w.value.contains(&format!("\\{ident_quote}")),
            _ => false,
        };
        if bad {
            return Err(refused("a string or quoted name with a backslash before a quote is not supported in raw SQL under tenant scope"));
        }
    }
    Ok(())
}

/// MySQL's tokens as the scope pass needs them, or a refusal for what MySQL would run that the
/// parser does not see, or that reads or changes session state:
/// - executable comments: sqlparser reads `/*! ... */` and `/*!80000 ... */` as part of the
///   statement, and MariaDB also runs `/*M! ... */`, which sqlparser skips as a comment;
/// - user and system variables (`@v`, `@@v`) and `:=`;
/// - `?` placeholders become `$1..$n` in order; other placeholders are refused;
/// - double-quoted strings (MySQL strings, not names) become single-quoted ones;
/// - unquoted and backquoted names that are a schema column's name in another case take the
///   schema's spelling (MySQL compares column names without case), so that `SET TENANTID = ...`
///   is seen as a write of the tenant column; non-ASCII names other than the schema's own are
///   refused (MySQL's case and accent rules for them are not Rust's).
fn mysql_tokens(text: &str, tokens: &mut [sqlparser::tokenizer::TokenWithSpan], schema: Option<&Schema>) -> Result<()> {
    use sqlparser::tokenizer::{Token, Whitespace};
    // Strings are written again from their values ([`crate::rawsql::render_mysql`]); names are not.
    check_quotes(tokens, '`', false)?;
    let chars: Vec<char> = text.chars().collect();
    let mut line_starts = vec![0usize];
    line_starts.extend(chars.iter().enumerate().filter(|(_, c)| **c == '\n').map(|(i, _)| i + 1));
    let starts_with = |loc: sqlparser::tokenizer::Location, prefix: &str| -> bool {
        let Some(line) = (loc.line as usize).checked_sub(1).and_then(|l| line_starts.get(l)) else { return false };
        let Some(at) = (loc.column as usize).checked_sub(1).map(|c| line + c) else { return false };
        prefix.chars().enumerate().all(|(i, p)| chars.get(at + i) == Some(&p))
    };
    let executable = || {
        refused("executable comments (/*! ... */, /*M! ... */) are refused in raw SQL under tenant scope: MySQL runs their contents")
    };
    // The schema's column names by their lower-case form, when that form has one spelling.
    let mut columns: std::collections::HashMap<String, Option<&str>> = std::collections::HashMap::new();
    let mut tables: HashSet<&str> = HashSet::new();
    if let Some(schema) = schema {
        for m in &schema.models {
            tables.insert(m.db_name.as_str());
            for f in &m.fields {
                if let Some(s) = f.as_scalar() {
                    let e = columns.entry(s.db_name.to_lowercase()).or_insert(Some(s.db_name.as_str()));
                    if e.is_some_and(|spelled| spelled != s.db_name) {
                        *e = None;
                    }
                }
            }
        }
    }
    let mut placeholders = 0usize;
    for t in tokens.iter_mut() {
        // A token from an executable comment starts where the comment starts.
        if starts_with(t.span.start, "/*!") {
            return Err(executable());
        }
        match &mut t.token {
            Token::Whitespace(Whitespace::MultiLineComment(c)) if c.starts_with("M!") || c.starts_with('!') => {
                return Err(executable());
            }
            Token::Placeholder(p) if p == "?" => {
                placeholders += 1;
                *p = format!("${placeholders}");
            }
            Token::Placeholder(p) => {
                return Err(Error::at(codes::INVALID_VALUE, "args.query", format!("placeholder {p} is not supported with MySQL: use ?")));
            }
            Token::Word(w) if w.quote_style.is_none() && w.value.starts_with('$') => {
                return Err(Error::at(
                    codes::INVALID_VALUE,
                    "args.query",
                    format!("{} is not supported with MySQL: use ? for parameters and backticks for such names", w.value),
                ));
            }
            Token::Word(w) if w.quote_style.is_none() && w.value.starts_with('@') => {
                return Err(refused(format!(
                    "variables ({}) are refused in raw SQL under tenant scope: they carry session state from one statement to the next",
                    w.value
                )));
            }
            Token::AtSign | Token::Assignment => {
                return Err(refused("variables (@name, :=) are refused in raw SQL under tenant scope: they carry session state"));
            }
            Token::DoubleQuotedString(v) => t.token = Token::SingleQuotedString(std::mem::take(v)),
            Token::Word(w) if (w.quote_style.is_none() || w.quote_style == Some('`')) && !w.value.is_ascii() => {
                // MySQL compares names by its own case (and, by version and collation, accent)
                // rules, which are not Rust's: a non-ASCII name could mean a schema column the
                // scope pass does not recognise. Only the schema's own spellings are taken.
                if !tables.contains(w.value.as_str()) && !columns.values().flatten().any(|c| *c == w.value) {
                    return Err(refused(format!(
                        "name {} is refused in raw SQL under tenant scope on MySQL: names other than the schema's must be ASCII",
                        w.value
                    )));
                }
            }
            Token::Word(w) if w.quote_style.is_none() || w.quote_style == Some('`') => {
                if !tables.contains(w.value.as_str()) {
                    match columns.get(&w.value.to_lowercase()) {
                        Some(Some(spelled)) => {
                            if w.value != *spelled {
                                w.value = (*spelled).to_owned();
                            }
                        }
                        Some(None) => {
                            return Err(refused(format!(
                                "column name {} is ambiguous in MySQL (the schema has columns that differ only in case)",
                                w.value
                            )));
                        }
                        None => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A statement other than SELECT, INSERT, UPDATE and DELETE, by its first keyword.
fn refused_keyword(word: &str) -> Error {
    let kind = word.to_ascii_uppercase();
    let why = match kind.as_str() {
        "SET" | "RESET" | "DISCARD" | "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE" | "PREPARE"
        | "DEALLOCATE" | "LISTEN" | "NOTIFY" | "UNLISTEN" | "LOAD" => " (it changes session or transaction state)",
        "CREATE" | "ALTER" | "DROP" | "COMMENT" | "GRANT" | "REVOKE" | "REINDEX" | "CLUSTER" | "VACUUM" | "ANALYZE" | "REFRESH"
        | "SECURITY" | "IMPORT" => " (it changes the database's structure or settings)",
        _ => "",
    };
    refused(format!("{kind} is refused in raw SQL under tenant scope{why}: only SELECT, INSERT, UPDATE and DELETE can run"))
        .with_meta("statement", kind)
}

/// Placeholders must be `$1..$n` within the parameters given (the tenant id is appended after them).
fn check_placeholders(stmt: &Statement, given: usize, dialect: Dialect) -> Result<()> {
    struct P {
        max: usize,
        bad: Option<String>,
    }
    impl sqlparser::ast::Visitor for P {
        type Break = ();
        fn pre_visit_value(&mut self, v: &ValueWithSpan) -> ControlFlow<()> {
            if let SqlValue::Placeholder(p) = &v.value {
                match p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0) {
                    Some(n) => self.max = self.max.max(n),
                    None => self.bad = Some(p.clone()),
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut p = P { max: 0, bad: None };
    let _ = Visit::visit(stmt, &mut p);
    if let Some(bad) = p.bad {
        return Err(Error::at(codes::INVALID_VALUE, "args.query", format!("placeholder {bad} is not supported: use $1, $2, ...")));
    }
    if p.max > given && dialect == Dialect::Mysql {
        return Err(Error::at(
            codes::INVALID_VALUE,
            "args.parameters",
            format!("the SQL has {} ? placeholder(s) but {given} parameter(s) were given", p.max),
        ));
    }
    if p.max > given {
        return Err(Error::at(
            codes::INVALID_VALUE,
            "args.parameters",
            format!("the SQL uses ${} but {given} parameter(s) were given", p.max),
        ));
    }
    Ok(())
}

/// `Name` -> `"name"`: PostgreSQL folds unquoted names to lower case; after this every name
/// compares exactly. MySQL keeps table names and aliases as written (they are case-sensitive
/// where its tables live in files with case-sensitive names, as on Linux): `Name` -> `` `Name` ``.
fn fold(ident: &mut Ident, dialect: Dialect) {
    if ident.quote_style.is_none() {
        match dialect {
            Dialect::Postgres => {
                ident.value = ident.value.to_ascii_lowercase();
                ident.quote_style = Some('"');
            }
            Dialect::Mysql => ident.quote_style = Some('`'),
        }
    }
}

fn fold_name(name: &mut ObjectName, dialect: Dialect) {
    for part in &mut name.0 {
        if let ObjectNamePart::Identifier(i) = part {
            fold(i, dialect);
        }
    }
}

/// The WITH list of one query being visited, for name resolution as PostgreSQL does it: a WITH
/// query's name is visible in the query that defines it (and its subqueries), and in the bodies of
/// the WITH queries after it (all of them, itself included, with RECURSIVE) — nowhere else.
struct CteFrame {
    names: Vec<String>,
    /// How many of `names` the part being visited can see.
    visible: usize,
    recursive: bool,
    /// The address of each WITH query's body, to know which one is being visited.
    bodies: Vec<usize>,
}

/// Checks what a statement may contain, folds names, and collects the scoped models it touches.
struct Check<'a> {
    schema: &'a Schema,
    namespace: Option<&'a str>,
    dialect: Dialect,
    scoped: Vec<ModelId>,
    /// One frame per query being visited, innermost last.
    ctes: Vec<CteFrame>,
    /// The next relation visited is the name of a table function (`generate_series(...)`).
    function_next: bool,
    statements: usize,
    error: Option<Error>,
}

impl<'a> Check<'a> {
    fn new(schema: &'a Schema, namespace: Option<&'a str>, dialect: Dialect) -> Self {
        Check { schema, namespace, dialect, scoped: vec![], ctes: Vec::new(), function_next: false, statements: 0, error: None }
    }

    fn fail(&mut self, e: Error) -> ControlFlow<()> {
        self.error.get_or_insert(e);
        ControlFlow::Break(())
    }

    /// The statement kinds raw SQL may be under tenant scope, and their forms.
    fn statement(&self, stmt: &Statement) -> Result<()> {
        match stmt {
            Statement::Query(_) => Ok(()),
            Statement::Insert(ins) => {
                if !ins.assignments.is_empty() || ins.or.is_some() || ins.ignore || ins.overwrite || ins.replace_into || ins.partitioned.is_some() || !ins.after_columns.is_empty() || ins.insert_alias.is_some() {
                    return Err(refused("this form of INSERT is not supported in raw SQL under tenant scope"));
                }
                if matches!(ins.on, Some(OnInsert::DuplicateKeyUpdate(_))) {
                    return Err(refused(
                        "INSERT ... ON DUPLICATE KEY UPDATE is refused in raw SQL under tenant scope: the key it collides with may be \
                         another tenant's row",
                    ));
                }
                if ins.priority.is_some() || ins.has_table_keyword {
                    return Err(refused("this form of INSERT is not supported in raw SQL under tenant scope"));
                }
                if !matches!(ins.table, TableObject::TableName(_)) {
                    return Err(refused("INSERT INTO a table function is not supported in raw SQL under tenant scope"));
                }
                Ok(())
            }
            Statement::Update(up) => {
                if up.or.is_some() || !up.order_by.is_empty() || up.limit.is_some() || !up.table.joins.is_empty() {
                    return Err(refused("this form of UPDATE is not supported in raw SQL under tenant scope"));
                }
                Ok(())
            }
            Statement::Delete(del) => {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &del.from;
                if !del.tables.is_empty() || !del.order_by.is_empty() || del.limit.is_some() || from.len() != 1 || from.iter().any(|t| !t.joins.is_empty()) {
                    return Err(refused("this form of DELETE is not supported in raw SQL under tenant scope"));
                }
                Ok(())
            }
            other => Err(refused_statement(other)),
        }
    }

    fn function(&self, name: &ObjectName) -> Result<()> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| match p.as_ident() {
                Some(i) if i.quote_style.is_none() => i.value.to_ascii_lowercase(),
                Some(i) => i.value.clone(),
                None => String::new(),
            })
            .collect();
        let base = match parts.as_slice() {
            [f] => f.as_str(),
            [schema, f] if schema == "pg_catalog" && self.dialect == Dialect::Postgres => f.as_str(),
            _ => "",
        };
        let base_lower = base.to_ascii_lowercase();
        if self.dialect == Dialect::Mysql {
            // MySQL function names are case-insensitive, quoted or not.
            let base = base_lower.as_str();
            if MYSQL_SESSION_FUNCTIONS.contains(&base) {
                return Err(refused(format!(
                    "{base}() reads files, waits, takes locks or reads or changes session state: refused under tenant scope"
                ))
                .with_meta("function", base));
            }
            if base.is_empty() || !MYSQL_FUNCTIONS.contains(&base) {
                let shown = parts.join(".");
                return Err(refused(format!(
                    "function {shown}() is not allowed in raw SQL under tenant scope (only built-in functions that read no tables by name)"
                ))
                .with_meta("function", shown));
            }
            return Ok(());
        }
        if SESSION_FUNCTIONS.contains(&base) {
            return Err(refused(format!("{base}() changes session or transaction state: refused under tenant scope")).with_meta("function", base));
        }
        if base.is_empty() || !FUNCTIONS.contains(&base) {
            let shown = parts.join(".");
            return Err(refused(format!(
                "function {shown}() is not allowed in raw SQL under tenant scope (only built-in functions that read no tables by name)"
            ))
            .with_meta("function", shown));
        }
        Ok(())
    }

    fn relation(&mut self, name: &mut ObjectName) -> Result<()> {
        fold_name(name, self.dialect);
        if std::mem::take(&mut self.function_next) {
            return Ok(());
        }
        // MySQL: a qualified name is another database's table (information_schema, mysql,
        // performance_schema, ...) unless it is the engine's namespace.
        if self.dialect == Dialect::Mysql && name.0.len() > 1 {
            let qualifier = name.0.first().and_then(|p| p.as_ident()).map(|i| i.value.as_str());
            if name.0.len() > 2 || self.namespace.is_none() || qualifier != self.namespace {
                return Err(refused(format!(
                    "table {name} is not a table of the schema: raw SQL under tenant scope reads and writes only the schema's tables"
                ))
                .with_meta("table", name.to_string()));
            }
        }
        if let Some(model) = model_of(self.schema, self.namespace, name) {
            if is_scoped(self.schema, model) && !self.scoped.contains(&model) {
                self.scoped.push(model);
            }
            // The engine's namespace, not the search path, decides which table a name means.
            if let (Some(ns), 1) = (self.namespace, name.0.len()) {
                name.0.insert(0, ObjectNamePart::Identifier(sql::ident(ns)));
            }
            return Ok(());
        }
        if let [ObjectNamePart::Identifier(i)] = name.0.as_slice() {
            if self.ctes.iter().any(|f| f.names[..f.visible].contains(&i.value)) {
                return Ok(());
            }
        }
        Err(refused(format!("table {name} is not a table of the schema: raw SQL under tenant scope reads and writes only the schema's tables"))
            .with_meta("table", name.to_string()))
    }

    /// `TABLE name` has no relation to visit: refused.
    fn set_expr(body: &SetExpr) -> Result<()> {
        match body {
            SetExpr::Table(_) => Err(refused("TABLE name is not supported in raw SQL under tenant scope: use SELECT * FROM name")),
            SetExpr::SetOperation { left, right, .. } => {
                Self::set_expr(left)?;
                Self::set_expr(right)
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(refused("a data-modifying statement inside a query (WITH ... DELETE/UPDATE/INSERT) is not supported under tenant scope"))
            }
            _ => Ok(()),
        }
    }
}

fn refused_statement(stmt: &Statement) -> Error {
    let text = stmt.to_string();
    refused_keyword(text.split_whitespace().next().unwrap_or(""))
}

impl VisitorMut for Check<'_> {
    type Break = ();

    fn pre_visit_statement(&mut self, _s: &mut Statement) -> ControlFlow<()> {
        self.statements += 1;
        if self.statements > 1 {
            return self.fail(refused("a statement inside a statement is not supported in raw SQL under tenant scope"));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        let address = q as *const Query as usize;
        // The body of a WITH query sees the names before it (all of them with RECURSIVE).
        if let Some(parent) = self.ctes.last_mut() {
            if let Some(i) = parent.bodies.iter().position(|b| *b == address) {
                parent.visible = if parent.recursive { parent.names.len() } else { i };
            }
        }
        let mut frame = CteFrame { names: vec![], visible: 0, recursive: false, bodies: vec![] };
        if let Some(with) = &mut q.with {
            frame.recursive = with.recursive;
            for cte in &mut with.cte_tables {
                fold(&mut cte.alias.name, self.dialect);
                let name = cte.alias.name.value.clone();
                let mysql = self.dialect == Dialect::Mysql;
                if self.schema.models.iter().any(|m| m.db_name == name || (mysql && m.db_name.eq_ignore_ascii_case(&name))) {
                    return self.fail(refused(format!("a WITH query may not be named like the table {name} under tenant scope")));
                }
                frame.names.push(name);
                frame.bodies.push(cte.query.as_ref() as *const Query as usize);
            }
            if frame.recursive {
                frame.visible = frame.names.len();
            }
        }
        self.ctes.push(frame);
        if let Err(e) = Self::set_expr(&q.body) {
            return self.fail(e);
        }
        if q.for_clause.is_some() || q.settings.is_some() || q.format_clause.is_some() || !q.pipe_operators.is_empty() {
            return self.fail(refused("this form of query is not supported in raw SQL under tenant scope"));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        let address = q as *const Query as usize;
        self.ctes.pop();
        // After its last WITH query, the query's own body sees every name of its WITH list.
        if let Some(parent) = self.ctes.last_mut() {
            if let Some(i) = parent.bodies.iter().position(|b| *b == address) {
                parent.visible = if parent.recursive { parent.names.len() } else { i + 1 };
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<()> {
        if s.into.is_some() {
            return self.fail(refused("SELECT INTO creates a table: refused in raw SQL under tenant scope"));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        let r = match tf {
            TableFactor::Table { name, args: Some(_), .. } => {
                self.function_next = true;
                self.function(name)
            }
            TableFactor::Table { alias, .. } => {
                if let Some(a) = alias {
                    fold(&mut a.name, self.dialect);
                }
                Ok(())
            }
            TableFactor::Function { name, alias, .. } => {
                if let Some(a) = alias {
                    fold(&mut a.name, self.dialect);
                }
                self.function(name)
            }
            TableFactor::Derived { alias, .. } | TableFactor::NestedJoin { alias, .. } | TableFactor::UNNEST { alias, .. } | TableFactor::TableFunction { alias, .. } => {
                if let Some(a) = alias {
                    fold(&mut a.name, self.dialect);
                }
                Ok(())
            }
            _ => Err(refused("this kind of FROM item is not supported in raw SQL under tenant scope")),
        };
        match r {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => self.fail(e),
        }
    }

    fn pre_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
        match self.relation(name) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => self.fail(e),
        }
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = e {
            if let Err(err) = self.function(&f.name) {
                return self.fail(err);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Fences every scoped table a query reads: `(SELECT * FROM t AS ref WHERE pred OFFSET 0) AS alias`.
struct Fence<'s, 'a> {
    scoper: &'s mut Scoper<'a>,
    error: Option<Error>,
    /// The fenced subqueries this pass made (by address), so that only they receive conditions.
    made: HashSet<usize>,
    dialect: Dialect,
}

impl VisitorMut for Fence<'_, '_> {
    type Break = ();

    /// A SELECT that reads one fenced table and nothing else: its conditions that cannot raise
    /// (comparisons of columns, parameters and literals) are copied into the fence, next to the
    /// tenant predicate, where PostgreSQL can use them for index lookups. The statement keeps them
    /// too; everything else stays outside the fence.
    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        let [twj] = select.from.as_mut_slice() else { return ControlFlow::Continue(()) };
        if !twj.joins.is_empty() {
            return ControlFlow::Continue(());
        }
        let TableFactor::Derived { subquery, alias, .. } = &mut twj.relation else { return ControlFlow::Continue(()) };
        if !self.made.contains(&(subquery.as_ref() as *const Query as usize)) || alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
            return ControlFlow::Continue(());
        }
        let Some(user) = select.selection.clone() else { return ControlFlow::Continue(()) };
        let mut conjuncts = Vec::new();
        split_and(user, &mut conjuncts);
        let plain: Vec<Expr> = conjuncts.into_iter().filter(cannot_raise).collect();
        if plain.is_empty() {
            return ControlFlow::Continue(());
        }
        if let SetExpr::Select(inner) = subquery.body.as_mut() {
            let mut all: Vec<Expr> = inner.selection.take().into_iter().collect();
            all.extend(plain);
            inner.selection = Some(sql::and(all));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        let Some((model, reference)) = self.scoper.scoped_table(tf) else { return ControlFlow::Continue(()) };
        if let TableFactor::Table { with_hints, version, partitions, json_path, sample, index_hints, with_ordinality, .. } = tf {
            if !with_hints.is_empty() || version.is_some() || !partitions.is_empty() || json_path.is_some() || sample.is_some() || !index_hints.is_empty() || *with_ordinality {
                self.error.get_or_insert(refused("table options (TABLESAMPLE, hints, ...) on a tenant-scoped table are not supported in raw SQL"));
                return ControlFlow::Break(());
            }
        }
        match self.scoper.wrap(tf, model, &reference) {
            Ok(()) => {
                if let TableFactor::Derived { subquery, .. } = tf {
                    self.made.insert(subquery.as_ref() as *const Query as usize);
                    // The fence: a subquery with OFFSET is neither pulled up nor given the outer
                    // query's conditions (PostgreSQL); on MySQL a LIMIT does that.
                    subquery.limit_clause = Some(match self.dialect {
                        Dialect::Postgres => sqlparser::ast::LimitClause::LimitOffset {
                            limit: None,
                            offset: Some(sqlparser::ast::Offset { value: sql::int_lit(0), rows: sqlparser::ast::OffsetRows::None }),
                            limit_by: vec![],
                        },
                        Dialect::Mysql => sqlparser::ast::LimitClause::LimitOffset {
                            limit: Some(Expr::value(SqlValue::Number(MYSQL_FENCE_LIMIT.to_owned(), false))),
                            offset: None,
                            limit_by: vec![],
                        },
                    });
                }
                ControlFlow::Continue(())
            }
            Err(e) => {
                self.error.get_or_insert(e);
                ControlFlow::Break(())
            }
        }
    }
}

fn fence<T: VisitMut + ?Sized>(scoper: &mut Scoper<'_>, node: &mut T, dialect: Dialect) -> Result<()> {
    let mut f = Fence { scoper, error: None, made: HashSet::new(), dialect };
    let _ = node.visit(&mut f);
    match f.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `pred AND <plain conditions> AND CASE WHEN pred THEN (rest) ELSE false END`: the user's
/// conditions are only evaluated on rows the predicate admits. Top-level conditions that compare a
/// column with a column, a parameter or a literal cannot raise an error whatever the row holds, so
/// they stay outside the guard where PostgreSQL can use them for index lookups and joins.
fn guarded(scoped: Option<Expr>, user: Option<Expr>) -> Option<Expr> {
    match (scoped, user) {
        (Some(p), Some(u)) => {
            let mut conjuncts = Vec::new();
            split_and(u, &mut conjuncts);
            let (plain, rest): (Vec<Expr>, Vec<Expr>) = conjuncts.into_iter().partition(cannot_raise);
            let mut all = vec![p.clone()];
            all.extend(plain);
            if !rest.is_empty() {
                let rest = Expr::Nested(Box::new(sql::and(rest)));
                all.push(sql::case_when(p, rest, Some(sql::bool_lit(false))));
            }
            Some(sql::and(all))
        }
        (p, None) => p,
        (None, u) => u,
    }
}

fn split_and(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::BinaryOp { left, op: sqlparser::ast::BinaryOperator::And, right } => {
            split_and(*left, out);
            split_and(*right, out);
        }
        Expr::Nested(inner) if matches!(*inner, Expr::BinaryOp { op: sqlparser::ast::BinaryOperator::And, .. }) => split_and(*inner, out),
        other => out.push(other),
    }
}

/// A column, a parameter or a literal.
fn atom(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Value(_))
}

/// `a = b`, `a < b`, ..., `a IN (..)`, `a IS [NOT] NULL` over columns, parameters and literals.
fn cannot_raise(e: &Expr) -> bool {
    use sqlparser::ast::BinaryOperator as B;
    match e {
        Expr::BinaryOp { left, op: B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq, right } => atom(left) && atom(right),
        Expr::InList { expr, list, .. } => atom(expr) && list.iter().all(atom),
        Expr::IsNull(e) | Expr::IsNotNull(e) => atom(e),
        Expr::Nested(e) => cannot_raise(e),
        _ => false,
    }
}

fn rewrite(
    schema: &Schema,
    namespace: Option<&str>,
    ctx: &TenantContext,
    tenant: Option<&Value>,
    stmt: &mut Stmt,
    dialect: Dialect,
) -> Result<Vec<Step>> {
    let Stmt { ast, params } = stmt;
    let mut scoper = Scoper {
        schema,
        namespace,
        tenant,
        params,
        tenant_expr: None,
        handled: 0,
        error: None,
        locking: Vec::new(),
        access: Vec::new(),
    };
    // Reads: every table reference outside the statement's own target is fenced.
    match ast {
        Statement::Query(q) => fence(&mut scoper, q.as_mut(), dialect)?,
        Statement::Insert(ins) => {
            fence(&mut scoper, &mut ins.source, dialect)?;
            fence(&mut scoper, &mut ins.on, dialect)?;
            fence(&mut scoper, &mut ins.returning, dialect)?;
        }
        Statement::Update(up) => {
            fence(&mut scoper, &mut up.assignments, dialect)?;
            fence(&mut scoper, &mut up.from, dialect)?;
            fence(&mut scoper, &mut up.selection, dialect)?;
            fence(&mut scoper, &mut up.returning, dialect)?;
        }
        Statement::Delete(del) => {
            fence(&mut scoper, &mut del.using, dialect)?;
            fence(&mut scoper, &mut del.selection, dialect)?;
            fence(&mut scoper, &mut del.returning, dialect)?;
        }
        _ => return Err(refused_statement(ast)),
    }
    // The target: predicate and checks, with the statement's own conditions behind the predicate.
    let mut user = None;
    match ast {
        Statement::Update(up) => user = up.selection.take(),
        Statement::Delete(del) => user = del.selection.take(),
        Statement::Insert(ins) => {
            if let Some(OnInsert::OnConflict(oc)) = &mut ins.on {
                if let OnConflictAction::DoUpdate(du) = &mut oc.action {
                    user = du.selection.take();
                }
            }
            if let TableObject::TableName(name) = &ins.table {
                if model_of(schema, namespace, name).is_some_and(|m| is_scoped(schema, m)) && ins.columns.is_empty() {
                    return Err(refused("INSERT into a tenant-scoped table must name its columns in raw SQL"));
                }
            }
        }
        _ => {}
    }
    check_tuple_assignments(schema, namespace, ast)?;
    scoper.scope_statement(ast)?;
    match ast {
        Statement::Update(up) => up.selection = guarded(up.selection.take(), user),
        Statement::Delete(del) => del.selection = guarded(del.selection.take(), user),
        Statement::Insert(ins) => {
            if let Some(OnInsert::OnConflict(oc)) = &mut ins.on {
                if let OnConflictAction::DoUpdate(du) = &mut oc.action {
                    du.selection = guarded(du.selection.take(), user);
                }
            }
        }
        _ => {}
    }
    let handled = scoper.handled;
    // Completeness: every reference to a scoped table was fenced or is a handled target.
    let mut counter = RelationCounter { schema, namespace, count: 0 };
    let _ = Visit::visit(&*ast, &mut counter);
    if counter.count != handled {
        return Err(refused("the statement references a tenant-scoped table in a position that cannot be scoped"));
    }
    // Foreign keys written to scoped models: parameters or literals only, each checked to name a
    // row the tenant can see.
    check_foreign_key_values(schema, namespace, stmt)?;
    let mut guards = Vec::new();
    for step in foreign_keys::raw_guards(schema, namespace, stmt) {
        let mut step = step;
        if let Step::Query { stmt: g, .. } = &mut step {
            super::scope(schema, namespace, ctx, g, Origin::Generated)?;
        }
        guards.push(step);
    }
    Ok(guards)
}

/// Folds the column names a write statement lists (INSERT columns, SET targets) and an INSERT's
/// alias, which the visitor does not reach as names.
fn fold_write_names(ast: &mut Statement, dialect: Dialect) {
    if let Statement::Insert(ins) = ast {
        ins.columns.iter_mut().for_each(|c| fold_name(c, dialect));
        if let Some(a) = &mut ins.table_alias {
            fold(&mut a.alias, dialect);
        }
    }
    let assignments: Vec<&mut sqlparser::ast::Assignment> = match ast {
        Statement::Update(up) => up.assignments.iter_mut().collect(),
        Statement::Insert(ins) => match &mut ins.on {
            Some(OnInsert::OnConflict(oc)) => match &mut oc.action {
                OnConflictAction::DoUpdate(du) => du.assignments.iter_mut().collect(),
                _ => vec![],
            },
            _ => vec![],
        },
        _ => vec![],
    };
    for a in assignments {
        match &mut a.target {
            AssignmentTarget::ColumnName(n) => fold_name(n, dialect),
            AssignmentTarget::Tuple(ns) => ns.iter_mut().for_each(|n| fold_name(n, dialect)),
        }
    }
}

/// The model a write statement targets.
fn target(schema: &Schema, namespace: Option<&str>, ast: &Statement) -> Option<ModelId> {
    match ast {
        Statement::Insert(ins) => match &ins.table {
            TableObject::TableName(n) => model_of(schema, namespace, n),
            _ => None,
        },
        Statement::Update(up) => match &up.table.relation {
            TableFactor::Table { name, .. } => model_of(schema, namespace, name),
            _ => None,
        },
        _ => None,
    }
}

/// Foreign-key columns (to tenant-scoped models, the tenant field aside) of a model.
fn foreign_key_columns(schema: &Schema, model: ModelId) -> Vec<String> {
    let m = schema.model(model);
    let tenant_field = match schema.tenancy.of(model) {
        ModelTenancy::Scoped { field, .. } => Some(*field),
        _ => None,
    };
    let mut out = Vec::new();
    for (_, _, r) in m.relation_fields() {
        let RelationLink::ForeignKey { fields, .. } = &r.link else { continue };
        if !is_scoped(schema, r.related) {
            continue;
        }
        for f in fields {
            if Some(*f) != tenant_field {
                if let Some(s) = m.field(*f).as_scalar() {
                    out.push(s.db_name.clone());
                }
            }
        }
    }
    out
}

/// Tuple assignments (`SET (a, b) = ...`) are not analysed: refused on tables with a tenant column
/// or foreign keys to scoped tables.
fn check_tuple_assignments(schema: &Schema, namespace: Option<&str>, ast: &Statement) -> Result<()> {
    let Some(model) = target(schema, namespace, ast) else { return Ok(()) };
    if !is_scoped(schema, model) && foreign_key_columns(schema, model).is_empty() {
        return Ok(());
    }
    let tuple = match ast {
        Statement::Update(up) => up.assignments.iter().any(|a| matches!(a.target, AssignmentTarget::Tuple(_))),
        Statement::Insert(ins) => match &ins.on {
            Some(OnInsert::OnConflict(oc)) => match &oc.action {
                OnConflictAction::DoUpdate(du) => du.assignments.iter().any(|a| matches!(a.target, AssignmentTarget::Tuple(_))),
                _ => false,
            },
            _ => false,
        },
        _ => false,
    };
    if tuple {
        return Err(refused("tuple assignments (SET (a, b) = ...) are not supported on this table in raw SQL under tenant scope"));
    }
    Ok(())
}

/// A value written to a foreign key of a scoped model must be a parameter, a literal, NULL or
/// DEFAULT, so the guard can check it.
fn check_foreign_key_values(schema: &Schema, namespace: Option<&str>, stmt: &Stmt) -> Result<()> {
    let Some(model) = target(schema, namespace, &stmt.ast) else { return Ok(()) };
    let fks = foreign_key_columns(schema, model);
    if fks.is_empty() {
        return Ok(());
    }
    let plain = |e: &Expr| -> bool {
        sql::placeholder_index(e).is_some()
            || matches!(e, Expr::Value(v) if !matches!(v.value, SqlValue::Placeholder(_)))
            || matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("DEFAULT"))
    };
    let bad = || {
        refused("a foreign key to a tenant-scoped table must be written as a parameter or a literal in raw SQL under tenant scope")
    };
    let check_assignments = |assignments: &[sqlparser::ast::Assignment]| -> Result<()> {
        for a in assignments {
            if let AssignmentTarget::ColumnName(n) = &a.target {
                if sql::split_table_name(n).is_some_and(|(_, c)| fks.iter().any(|f| f == c)) && !plain(&a.value) {
                    return Err(bad());
                }
            }
        }
        Ok(())
    };
    match &stmt.ast {
        Statement::Insert(ins) => {
            let columns: Vec<usize> = ins
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| sql::split_table_name(c).is_some_and(|(_, n)| fks.iter().any(|f| f == n)))
                .map(|(i, _)| i)
                .collect();
            if !columns.is_empty() {
                match ins.source.as_ref().map(|s| s.body.as_ref()) {
                    Some(SetExpr::Values(values)) => {
                        for row in &values.rows {
                            if columns.iter().any(|i| row.content.get(*i).is_none_or(|e| !plain(e))) {
                                return Err(bad());
                            }
                        }
                    }
                    _ => return Err(bad()),
                }
            }
            if let Some(OnInsert::OnConflict(oc)) = &ins.on {
                if let OnConflictAction::DoUpdate(du) = &oc.action {
                    check_assignments(&du.assignments)?;
                }
            }
            Ok(())
        }
        Statement::Update(up) => check_assignments(&up.assignments),
        _ => Ok(()),
    }
}
