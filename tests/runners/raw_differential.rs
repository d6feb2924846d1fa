//! Differential test of the raw SQL guard: generated statements run under tenant A on two copies
//! of the tenants schema that differ only in tenant B's rows (values changed, a row deleted, a row
//! and links added). Whatever A's statement gives — rows, affected count, error code and message —
//! must be the same on both, A's rows and the shared and global rows must end the same on both, and
//! nothing that is not A's may change; any difference means B's data reached A (a leak), or a
//! rule-7 failure (an error raised by evaluating B's row).
//!
//! The generator writes SQL text the way an attacker probes: joins, subqueries in FROM / WHERE /
//! the select list, LATERAL, CTEs at every depth (RECURSIVE too) whose names shadow tables, join
//! tables, system views and each other, set operations, aliases that shadow tables and
//! pseudo-tables (`excluded`), names quoted, unquoted, qualified and in other cases; expressions
//! that raise on the wrong row (casts, division); UPDATE / DELETE / INSERT (with FROM, USING,
//! ON CONFLICT, RETURNING) on every kind of table, assigning the tenant column from every kind of
//! expression. Most statements are refused or fail: what matters is that both databases answer
//! alike, and the run checks that enough of them do run.
//!
//! `QUARRY_RAWDIFF_CASES` sets the number of statements (default 10,000), `QUARRY_RAWDIFF_SEED`
//! the seed (decimal or 0x-hex). A failure prints the statement, both outcomes and the seed.

#[path = "tenant_property/rng.rs"]
#[allow(dead_code)]
mod rng;

use quarry_conformance as corpus;
use quarry_engine::exec::{DbValue, Dialect, Driver, Queryable, Transaction};
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::PgDriver;
use rng::Rng;
use serde_json::{Value as Json, json};
use std::time::Instant;

const DEFAULT_CASES: u64 = 10_000;
const DEFAULT_SEED: u64 = 0x5EED_D1FF_2026_0010;

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")))
}

/// Column kinds, so comparisons are mostly well-typed (and some are not, on purpose).
#[derive(Clone, Copy, PartialEq)]
enum Ty {
    Int,
    Text,
    Num,
    Bool,
    Time,
}

struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Ty)],
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Scoped,
    Shared,
    TenantModel,
    Global,
    Join,
    System,
}

use Ty::*;

const TABLES: &[Table] = &[
    Table { name: "User", kind: Kind::Scoped, columns: &[("id", Int), ("tenantId", Text), ("email", Text), ("name", Text), ("age", Int), ("countryCode", Text), ("managerId", Int)] },
    Table { name: "Post", kind: Kind::Scoped, columns: &[("id", Int), ("tenantId", Text), ("authorId", Int), ("projectId", Text), ("categoryId", Int), ("title", Text), ("views", Int), ("rating", Num), ("createdAt", Time)] },
    Table { name: "Comment", kind: Kind::Scoped, columns: &[("id", Int), ("tenantId", Text), ("postId", Int), ("authorId", Int), ("body", Text), ("likes", Int), ("parentId", Int)] },
    Table { name: "Profile", kind: Kind::Scoped, columns: &[("id", Text), ("tenantId", Text), ("userId", Int), ("bio", Text), ("score", Int)] },
    Table { name: "Project", kind: Kind::Scoped, columns: &[("id", Text), ("tenantId", Text), ("name", Text), ("code", Text), ("budget", Num), ("archived", Bool)] },
    Table { name: "Membership", kind: Kind::Scoped, columns: &[("tenantId", Text), ("userId", Int), ("projectId", Text)] },
    Table { name: "Tag", kind: Kind::Shared, columns: &[("id", Int), ("tenantId", Text), ("name", Text), ("color", Text)] },
    Table { name: "Category", kind: Kind::Shared, columns: &[("id", Int), ("tenantId", Text), ("name", Text), ("slug", Text)] },
    Table { name: "Tenant", kind: Kind::TenantModel, columns: &[("id", Text), ("name", Text), ("slug", Text), ("plan", Text)] },
    Table { name: "Country", kind: Kind::Global, columns: &[("code", Text), ("name", Text)] },
    Table { name: "Skill", kind: Kind::Global, columns: &[("id", Int), ("name", Text)] },
    Table { name: "Suggestion", kind: Kind::Global, columns: &[("id", Int), ("text", Text)] },
    Table { name: "_PostToTag", kind: Kind::Join, columns: &[("A", Int), ("B", Int)] },
    Table { name: "_SkillToUser", kind: Kind::Join, columns: &[("A", Int), ("B", Int)] },
    Table { name: "_Follows", kind: Kind::Join, columns: &[("A", Int), ("B", Int)] },
    Table { name: "_SkillToTag", kind: Kind::Join, columns: &[("A", Int), ("B", Int)] },
    Table { name: "_CountryToSkill", kind: Kind::Join, columns: &[("A", Text), ("B", Int)] },
    Table { name: "pg_stats", kind: Kind::System, columns: &[("tablename", Text), ("attname", Text), ("null_frac", Num)] },
    Table { name: "pg_stat_activity", kind: Kind::System, columns: &[("query", Text), ("datname", Text), ("pid", Int)] },
    Table { name: "pg_class", kind: Kind::System, columns: &[("relname", Text), ("relpages", Int)] },
    Table { name: "pg_user", kind: Kind::System, columns: &[("usename", Text), ("usesysid", Int)] },
];

/// Names a WITH query or an alias may take: plain ones, and ones that shadow tables, join tables,
/// system views and the ON CONFLICT pseudo-row.
const NAMES: &[&str] = &[
    "c", "x", "t", "p", "s", "q", "Post", "User", "Tag", "Tenant", "post", "_PostToTag", "_SkillToUser", "pg_stats",
    "pg_stat_activity", "pg_class", "excluded", "Country",
];

const TEXTS: &[&str] = &["tnt_a", "tnt_b", "Alice", "alice@example.com", "rust", "Hello world", "Globex", "zz Hello world", "secret", "FR", "JP", "prj_a1", "prj_b2", "x"];

/// A FROM item in scope: its alias and columns (None: unknown, any name may fail).
#[derive(Clone)]
struct Source {
    alias: String,
    columns: Vec<(String, Ty)>,
}

struct Gen<'r> {
    rng: &'r mut Rng,
    params: Vec<Json>,
    namespace: &'static str,
    /// Every WITH name the statement defines so far: FROM items reach for them in and out of
    /// their scope.
    with_names: Vec<String>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Gen<'_> {
    /// A table name as a user might write it: quoted, unquoted (folds to lower case), in another
    /// case, qualified with the namespace or `public` or `pg_catalog`.
    fn table_name(&mut self, t: &Table) -> String {
        match self.rng.below(24) {
            0 => t.name.to_owned(),
            1 => quote(&t.name.to_ascii_lowercase()),
            2 | 3 | 4 => format!("{}.{}", quote(self.namespace), quote(t.name)),
            5 => format!("public.{}", quote(t.name)),
            6 if t.kind == Kind::System => format!("pg_catalog.{}", t.name),
            _ => quote(t.name),
        }
    }

    /// A table, mostly the schema's models, sometimes a join table or a system view.
    fn table(&mut self) -> &'static Table {
        let kinds: Vec<&'static Table> = match self.rng.below(10) {
            0 => TABLES.iter().filter(|t| matches!(t.kind, Kind::Join | Kind::System)).collect(),
            _ => TABLES.iter().filter(|t| !matches!(t.kind, Kind::Join | Kind::System)).collect(),
        };
        *self.rng.pick(&kinds)
    }

    /// An alias or WITH name: mostly plain, sometimes one that shadows a table or pseudo-table.
    fn name(&mut self) -> String {
        let n = if self.rng.chance(60) { *self.rng.pick(&NAMES[..6]) } else { *self.rng.pick(NAMES) };
        if self.rng.chance(70) { quote(n) } else { n.to_owned() }
    }

    fn literal(&mut self, ty: Ty) -> String {
        if self.rng.chance(15) {
            // A parameter of the right kind.
            let v = match ty {
                Int => json!(self.rng.range(-1, 9)),
                Num => json!(self.rng.range(0, 200)),
                Bool => json!(self.rng.chance(50)),
                _ => json!(*self.rng.pick(TEXTS)),
            };
            self.params.push(v);
            return format!("${}", self.params.len());
        }
        match ty {
            Int => self.rng.range(-1, 9).to_string(),
            Num => format!("{}.5", self.rng.range(0, 120)),
            Bool => if self.rng.chance(50) { "true" } else { "false" }.to_owned(),
            Time => "'2024-01-03'".to_owned(),
            Text => format!("'{}'", self.rng.pick(TEXTS)),
        }
    }

    fn column(&mut self, scope: &[Source]) -> Option<(String, Ty)> {
        let with_columns: Vec<&Source> = scope.iter().filter(|s| !s.columns.is_empty()).collect();
        if with_columns.is_empty() {
            return None;
        }
        let s = *self.rng.pick(&with_columns);
        let (c, ty) = self.rng.pick(&s.columns).clone();
        Some(if self.rng.chance(80) { (format!("{}.{}", quote(&s.alias), quote(&c)), ty) } else { (quote(&c), ty) })
    }

    /// A condition over the sources in scope, some of which raise on the wrong row.
    fn condition(&mut self, scope: &[Source], depth: usize) -> String {
        let Some((c, ty)) = self.column(scope) else { return "true".into() };
        match self.rng.below(16) {
            0 | 1 | 2 => format!("{c} = {}", self.literal(ty)),
            3 => format!("{c} <> {}", self.literal(ty)),
            4 if ty == Int || ty == Num => format!("{c} > {}", self.literal(ty)),
            5 => format!("{c} IS NULL"),
            6 => format!("{c} IN ({}, {})", self.literal(ty), self.literal(ty)),
            7 if depth < 3 => format!("EXISTS ({})", self.query(scope, depth + 1, false)),
            8 if depth < 3 => format!("{c} IN ({})", self.single_column_query(scope, depth + 1, ty)),
            9 => format!("({} AND {})", self.condition(scope, depth + 1), self.condition(scope, depth + 1)),
            10 => format!("({} OR {})", self.condition(scope, depth + 1), self.condition(scope, depth + 1)),
            11 => format!("NOT ({})", self.condition(scope, depth + 1)),
            // Raises on some rows: must never be evaluated on B's.
            12 if ty == Text => format!("CAST({c} AS int) > 0"),
            13 if ty == Int => format!("100 / ({c} - {}) > 0", self.rng.range(0, 8)),
            14 if ty == Text => format!("CASE WHEN {c} = '{}' THEN CAST({c} AS int) ELSE 0 END = 0", self.rng.pick(TEXTS)),
            _ => format!("{c} = {c}"),
        }
    }

    /// A FROM item: a table (scoped, shared, global, join, system), a WITH name, a subquery.
    fn from_item(&mut self, outer: &[Source], ctes: &[String], depth: usize) -> (String, Source) {
        let alias_name = if self.rng.chance(60) { Some(self.name()) } else { None };
        let unquote = |n: &str| n.trim_matches('"').to_owned();
        if !self.with_names.is_empty() && self.rng.chance(20) {
            // A WITH name, whether or not it is in scope here: only where PostgreSQL would see the
            // WITH query may it mean one.
            let name = self.rng.pick(&self.with_names).clone();
            let alias = alias_name.unwrap_or_else(|| quote(&name));
            let columns = TABLES.iter().find(|t| t.name == name).map_or_else(|| vec![("v".into(), Int)], |t| t.columns.iter().map(|(c, ty)| (c.to_string(), *ty)).collect());
            return (format!("{} AS {alias}", quote(&name)), Source { alias: unquote(&alias), columns });
        }
        if self.rng.chance(5) {
            // A derived table offering a tenant value to whatever names it.
            let value = *self.rng.pick(&["'tnt_b'", "NULL::text", "'tnt_a'"]);
            let alias = alias_name.unwrap_or_else(|| quote("d"));
            let source = Source { alias: unquote(&alias), columns: vec![("tenantId".into(), Text), ("v".into(), Int)] };
            return (format!("(SELECT {value} AS \"tenantId\", 1 AS v) AS {alias}"), source);
        }
        let r = self.rng.below(10);
        if r < 2 && depth < 3 {
            // A derived table (sometimes LATERAL, seeing the outer items).
            let lateral = self.rng.chance(30) && !outer.is_empty();
            let inner = self.single_column_query(if lateral { outer } else { &[] }, depth + 1, Int);
            let alias = alias_name.unwrap_or_else(|| quote("d"));
            let source = Source { alias: unquote(&alias), columns: vec![("v".into(), Int)] };
            return (format!("{}({inner}) AS {alias}", if lateral { "LATERAL " } else { "" }), source);
        }
        if r < 3 && !ctes.is_empty() {
            let cte = self.rng.pick(ctes).clone();
            let alias = alias_name.unwrap_or_else(|| quote(&cte));
            return (format!("{} AS {alias}", quote(&cte)), Source { alias: unquote(&alias), columns: vec![("v".into(), Int)] });
        }
        let t = self.table();
        let name = self.table_name(t);
        let columns = t.columns.iter().map(|(c, ty)| (c.to_string(), *ty)).collect();
        match alias_name {
            Some(a) => (format!("{name} AS {a}"), Source { alias: unquote(&a), columns }),
            None => (name, Source { alias: t.name.to_owned(), columns }),
        }
    }

    /// `WITH [RECURSIVE] n AS (...), ...` with names from the shadowing pool, or nothing.
    fn with_clause(&mut self, scope: &[Source], depth: usize, ctes: &mut Vec<String>) -> String {
        if depth >= 3 || !self.rng.chance(if depth == 0 { 25 } else { 40 }) {
            return String::new();
        }
        let recursive = self.rng.chance(20);
        let n = 1 + self.rng.below(2);
        let mut parts = Vec::new();
        for _ in 0..n {
            // Often the name of a table the guard refuses (a join table, a system view): used
            // outside its scope, it would reach the real one.
            let name = if self.rng.chance(45) {
                let hidden: Vec<&Table> = TABLES.iter().filter(|t| matches!(t.kind, Kind::Join | Kind::System)).collect();
                self.rng.pick(&hidden).name.to_owned()
            } else {
                self.name().trim_matches('"').to_owned()
            };
            self.with_names.push(name.clone());
            let body = self.single_column_query(scope, depth + 1, Int);
            parts.push(format!("{} AS ({body})", quote(&name)));
            ctes.push(name);
        }
        format!("WITH {}{} ", if recursive { "RECURSIVE " } else { "" }, parts.join(", "))
    }

    /// A query with one column named `v` (for IN, derived tables, WITH queries, set operations).
    fn single_column_query(&mut self, outer: &[Source], depth: usize, ty: Ty) -> String {
        let mut ctes = Vec::new();
        let with = self.with_clause(outer, depth, &mut ctes);
        let (item, source) = self.from_item(outer, &ctes, depth);
        let mut scope: Vec<Source> = outer.to_vec();
        scope.push(source.clone());
        let projection = match source.columns.iter().filter(|(_, t)| *t == ty).map(|(c, _)| c.clone()).collect::<Vec<_>>() {
            cols if !cols.is_empty() && self.rng.chance(85) => {
                let c = self.rng.pick(&cols).clone();
                format!("{}.{}", quote(&source.alias), quote(&c))
            }
            _ => match ty {
                Int => "count(*)::int".into(),
                _ => self.literal(ty),
            },
        };
        let filter = if self.rng.chance(60) { format!(" WHERE {}", self.condition(&scope, depth)) } else { String::new() };
        let mut q = format!("{with}SELECT {projection} AS v FROM {item}{filter}");
        if self.rng.chance(10) && depth < 3 {
            let op = *self.rng.pick(&["UNION", "UNION ALL", "EXCEPT", "INTERSECT"]);
            q = format!("{q} {op} {}", self.single_column_query(outer, depth + 1, ty));
        }
        q
    }

    /// A SELECT over one to three FROM items with joins, a condition and a projection that keeps
    /// results comparable (aggregates ordered, no LIMIT without a total order).
    fn query(&mut self, outer: &[Source], depth: usize, top: bool) -> String {
        let mut ctes = Vec::new();
        let with = self.with_clause(outer, depth, &mut ctes);
        let n = 1 + self.rng.below(if depth == 0 { 3 } else { 2 });
        let mut scope: Vec<Source> = outer.to_vec();
        let mut from = String::new();
        for i in 0..n {
            let (item, source) = self.from_item(&scope, &ctes, depth);
            scope.push(source);
            if i == 0 {
                from = item;
            } else {
                match self.rng.below(4) {
                    0 => from = format!("{from}, {item}"),
                    1 => from = format!("{from} CROSS JOIN {item}"),
                    2 => from = format!("{from} LEFT JOIN {item} ON {}", self.condition(&scope, depth + 1)),
                    _ => from = format!("{from} JOIN {item} ON {}", self.condition(&scope, depth + 1)),
                }
            }
        }
        let filter = if self.rng.chance(70) { format!(" WHERE {}", self.condition(&scope, depth)) } else { String::new() };
        let projection = if !top {
            "1".to_owned()
        } else {
            match self.rng.below(5) {
                0 => "count(*)::int AS n".to_owned(),
                1 | 2 => match self.column(&scope[outer.len()..]) {
                    Some((c, _)) => format!("{c}::text AS a"),
                    None => "1 AS a".into(),
                },
                3 => match self.column(&scope[outer.len()..]) {
                    Some((c, _)) => format!("string_agg({c}::text, ',' ORDER BY {c}::text) AS a"),
                    None => "count(*)::int AS n".into(),
                },
                _ => "*".to_owned(),
            }
        };
        format!("{with}SELECT {projection} FROM {from}{filter}")
    }

    /// A value for the tenant column, from every kind of expression.
    fn tenant_value(&mut self, target: &str, from_alias: Option<&str>) -> String {
        match self.rng.below(9) {
            0 => "'tnt_a'".into(),
            1 => "'tnt_b'".into(),
            2 => {
                self.params.push(json!(if self.rng.chance(50) { "tnt_a" } else { "tnt_b" }));
                format!("${}", self.params.len())
            }
            3 => "NULL".into(),
            4 => format!("excluded.{}", quote("tenantId")),
            5 => format!("{}.{}", quote(target), quote("tenantId")),
            6 => quote("tenantId"),
            7 => format!("{}.{}", quote(from_alias.unwrap_or("x")), quote("tenantId")),
            _ => "lower('TNT_B')".into(),
        }
    }

    fn assignments(&mut self, t: &Table, target_alias: &str, from_alias: Option<&str>) -> String {
        let mut parts = Vec::new();
        let writable: Vec<&(&str, Ty)> = t.columns.iter().filter(|(c, _)| *c != "id" && *c != "tenantId").collect();
        if !writable.is_empty() {
            let (c, ty) = **self.rng.pick(&writable);
            let value = match self.rng.below(4) {
                0 if from_alias.is_some() => format!("{}.{}", quote(from_alias.unwrap_or("x")), quote(c)),
                1 if ty == Int => format!("{} + 1", quote(c)),
                _ => self.literal(ty),
            };
            parts.push(format!("{} = {value}", quote(c)));
        }
        if t.columns.iter().any(|(c, _)| *c == "tenantId") && (parts.is_empty() || self.rng.chance(40)) {
            let v = self.tenant_value(target_alias, from_alias);
            parts.push(format!("{} = {v}", quote("tenantId")));
        }
        if parts.is_empty() {
            parts.push(format!("{} = {}", quote(t.columns[0].0), quote(t.columns[0].0)));
        }
        parts.join(", ")
    }

    fn returning(&mut self, t: &Table) -> String {
        if !self.rng.chance(30) {
            return String::new();
        }
        let cols: Vec<String> = t.columns.iter().filter(|(_, ty)| *ty != Time).map(|(c, _)| quote(c)).collect();
        format!(" RETURNING {}", cols.join(", "))
    }

    /// UPDATE, DELETE or INSERT on any kind of table.
    fn write(&mut self) -> String {
        let t = self.table();
        let name = self.table_name(t);
        let columns: Vec<(String, Ty)> = t.columns.iter().map(|(c, ty)| (c.to_string(), *ty)).collect();
        match self.rng.below(3) {
            0 => {
                let alias = if self.rng.chance(40) { Some(self.name()) } else { None };
                let target_alias = alias.clone().map(|a| a.trim_matches('"').to_owned()).unwrap_or_else(|| t.name.to_owned());
                let mut scope = vec![Source { alias: target_alias.clone(), columns }];
                let mut from = String::new();
                let mut from_alias = None;
                if self.rng.chance(35) {
                    let (mut item, mut source) = self.from_item(&[], &[], 1);
                    if self.rng.chance(30) {
                        // A FROM item named like ON CONFLICT's pseudo-row, offering another
                        // tenant's value (or a shared row's NULL).
                        let offered = if self.rng.chance(50) { "(SELECT 'tnt_b' AS \"tenantId\", 1 AS v)".to_owned() } else { quote("Tag") };
                        item = format!("{offered} AS excluded");
                        source = Source { alias: "excluded".into(), columns: vec![("tenantId".into(), Text)] };
                    }
                    from_alias = Some(source.alias.clone());
                    scope.push(source);
                    from = format!(" FROM {item}");
                }
                let mut set = self.assignments(t, &target_alias, from_alias.as_deref());
                if from_alias.as_deref() == Some("excluded") && t.columns.iter().any(|(c, _)| *c == "tenantId") && self.rng.chance(60) {
                    set = format!("{} = excluded.{}", quote("tenantId"), quote("tenantId"));
                }
                let filter = if self.rng.chance(75) { format!(" WHERE {}", self.condition(&scope, 1)) } else { String::new() };
                let returning = self.returning(t);
                let alias = alias.map(|a| format!(" AS {a}")).unwrap_or_default();
                format!("UPDATE {name}{alias} SET {set}{from}{filter}{returning}")
            }
            1 => {
                let alias = if self.rng.chance(40) { Some(self.name()) } else { None };
                let target_alias = alias.clone().map(|a| a.trim_matches('"').to_owned()).unwrap_or_else(|| t.name.to_owned());
                let mut scope = vec![Source { alias: target_alias, columns }];
                let mut using = String::new();
                if self.rng.chance(30) {
                    let (item, source) = self.from_item(&[], &[], 1);
                    scope.push(source);
                    using = format!(" USING {item}");
                }
                let filter = if self.rng.chance(85) { format!(" WHERE {}", self.condition(&scope, 1)) } else { String::new() };
                let returning = self.returning(t);
                let alias = alias.map(|a| format!(" AS {a}")).unwrap_or_default();
                format!("DELETE FROM {name}{alias}{using}{filter}{returning}")
            }
            _ => {
                // Explicit values for every column but a serial id (sequences are aligned on both
                // databases, so generated ids agree too); the time column gets a fixed value.
                let cols: Vec<&(&str, Ty)> = t.columns.iter().filter(|(c, ty)| !(*c == "id" && *ty == Int) || self.rng.chance(30)).collect();
                let names: Vec<String> = cols.iter().map(|(c, _)| quote(c)).collect();
                let source = if self.rng.chance(25) {
                    let (item, src) = self.from_item(&[], &[], 1);
                    let values: Vec<String> = cols
                        .iter()
                        .map(|(c, ty)| {
                            if *c == "tenantId" {
                                self.tenant_value("x", Some(&src.alias))
                            } else if let Some((sc, _)) = src.columns.iter().find(|(sc, sty)| sty == ty && self.rng.chance(40) && sc != "tenantId") {
                                format!("{}.{}", quote(&src.alias), quote(sc))
                            } else {
                                self.literal(*ty)
                            }
                        })
                        .collect();
                    format!("SELECT {} FROM {item}", values.join(", "))
                } else {
                    let values: Vec<String> = cols
                        .iter()
                        .map(|(c, ty)| if *c == "tenantId" { self.tenant_value("x", None) } else if *c == "id" && *ty == Text { format!("'gen_{}'", self.rng.below(5)) } else { self.literal(*ty) })
                        .collect();
                    format!("VALUES ({})", values.join(", "))
                };
                let conflict = match self.rng.below(4) {
                    0 => " ON CONFLICT DO NOTHING".to_owned(),
                    1 => {
                        let key = quote(t.columns[0].0);
                        format!(" ON CONFLICT ({key}) DO UPDATE SET {}", self.assignments(t, t.name, Some("excluded")))
                    }
                    _ => String::new(),
                };
                let returning = self.returning(t);
                format!("INSERT INTO {name} ({}) {source}{conflict}{returning}", names.join(", "))
            }
        }
    }

    fn statement(&mut self) -> (String, bool) {
        if self.rng.chance(35) { (self.write(), true) } else { (self.query(&[], 0, true), false) }
    }
}

/// B's rows, changed on the second database: values, one row gone, one row and links added. Keys
/// that are unique across tenants keep their values, so a collision answers alike on both.
const B_CHANGES: &[&str] = &[
    r#"UPDATE "User" SET name = name || ' (2)', age = COALESCE(age, 0) + 17 WHERE "tenantId" = 'tnt_b'"#,
    r#"UPDATE "Post" SET title = 'zz ' || title, views = views * 3 + 1, rating = NULL WHERE "tenantId" = 'tnt_b'"#,
    r#"UPDATE "Comment" SET body = 'x' || body, likes = likes + 100 WHERE "tenantId" = 'tnt_b'"#,
    r#"DELETE FROM "Comment" WHERE id = 4"#,
    r#"INSERT INTO "Comment" (id, "tenantId", "postId", "authorId", body, likes) VALUES (500, 'tnt_b', 2, 4, '0', 5)"#,
    r#"UPDATE "Tag" SET color = 'purple', name = name || '2' WHERE "tenantId" = 'tnt_b'"#,
    r#"UPDATE "Category" SET name = 'n' || name WHERE "tenantId" = 'tnt_b'"#,
    r#"UPDATE "Project" SET budget = 1, archived = NOT archived WHERE "tenantId" = 'tnt_b'"#,
    r#"UPDATE "Profile" SET bio = '7', score = score + 1 WHERE "tenantId" = 'tnt_b'"#,
    r#"UPDATE "Membership" SET role = 'ADMIN' WHERE "tenantId" = 'tnt_b'"#,
    r#"UPDATE "Tenant" SET name = 'Globex 2', plan = 'enterprise' WHERE id = 'tnt_b'"#,
    r#"DELETE FROM "_PostToTag" WHERE "A" = 2 AND "B" = 3"#,
    r#"INSERT INTO "_Follows" ("A", "B") VALUES (6, 7)"#,
    r#"DELETE FROM "_SkillToUser" WHERE "B" = 4"#,
];

/// What must never change under A, and what must end the same on both databases.
fn digests(ns: &str) -> (String, String) {
    let t = |name: &str| format!("\"{ns}\".\"{name}\"");
    let agg = |from: String, cols: &str, filter: &str| {
        format!("(SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM (SELECT {cols} FROM {from} x WHERE {filter}) r)")
    };
    let scoped = ["User", "Comment", "Profile", "Project", "Membership", "Tag", "Category"];
    let not_a = |name: &str| agg(t(name), "x.*", "x.\"tenantId\" IS DISTINCT FROM 'tnt_a'");
    let is_a = |name: &str| agg(t(name), "x.*", "x.\"tenantId\" = 'tnt_a'");
    let post_cols = r#"x.id, x."tenantId", x."authorId", x."projectId", x."categoryId", x.title, x.status, x.views, x.rating"#;
    let mut others: Vec<String> = scoped.iter().map(|n| not_a(n)).collect();
    others.push(agg(t("Post"), post_cols, "x.\"tenantId\" IS DISTINCT FROM 'tnt_a'"));
    others.push(agg(t("Tenant"), "x.*", "x.id <> 'tnt_a'"));
    // Suggestion is declared writable: tenants may change it, so it is only compared across the two.
    for global in ["Country", "Skill", "_CountryToSkill"] {
        others.push(agg(t(global), "x.*", "true"));
    }
    // Links with no side of A's (a global side is no one's).
    let link = |table: &str, a: Option<&str>, b: Option<&str>| {
        let side = |scoped: Option<&str>, column: &str| match scoped {
            Some(model) => format!("NOT EXISTS (SELECT 1 FROM {} s WHERE s.id = x.\"{column}\" AND s.\"tenantId\" = 'tnt_a')", t(model)),
            None => "true".to_owned(),
        };
        agg(t(table), "x.*", &format!("{} AND {}", side(a, "A"), side(b, "B")))
    };
    others.push(link("_PostToTag", Some("Post"), Some("Tag")));
    others.push(link("_SkillToUser", None, Some("User")));
    others.push(link("_Follows", Some("User"), Some("User")));
    others.push(link("_SkillToTag", None, Some("Tag")));
    let mut mine: Vec<String> = scoped.iter().map(|n| is_a(n)).collect();
    mine.push(agg(t("Post"), post_cols, "x.\"tenantId\" = 'tnt_a'"));
    mine.push(agg(t("Tenant"), "x.*", "x.id = 'tnt_a'"));
    mine.push(agg(t("Suggestion"), "x.*", "true"));
    (format!("SELECT {} AS d", others.join(" || ")), format!("SELECT {} AS d", mine.join(" || ")))
}

struct Db {
    namespace: String,
    driver: PgDriver,
    engine: Engine,
    others: String,
    mine: String,
}

impl Db {
    async fn open(namespace: String, schema: &str, seed: &str, b_changes: bool) -> Db {
        let driver = PgDriver::connect(&corpus::database_url()).await.unwrap_or_else(|e| panic!("cannot reach PostgreSQL: {e:?}"));
        let engine = Engine::new(schema, EngineOptions { namespace: Some(namespace.clone()), ..Default::default() }).expect("schema");
        corpus::prepare(&driver, &engine, &namespace, Some(seed)).await.expect("prepare");
        if b_changes {
            let tx = driver.begin(None).await.expect("begin");
            tx.execute(&format!("SET LOCAL search_path TO \"{namespace}\""), &[]).await.expect("search path");
            for sql in B_CHANGES {
                tx.execute(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            }
            tx.commit().await.expect("commit");
        }
        // The same next ids on both databases.
        for (table, column) in [("User", "id"), ("Post", "id"), ("Comment", "id"), ("Tag", "id"), ("Category", "id"), ("Skill", "id"), ("Suggestion", "id")] {
            let sql = format!("SELECT setval(pg_get_serial_sequence('\"{namespace}\".\"{table}\"', '{column}'), 2000)");
            driver.query(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        }
        let (others, mine) = digests(&namespace);
        Db { namespace, driver, engine, others, mine }
    }

    async fn digest<Q: Queryable>(q: &Q, sql: &str) -> String {
        let rs = q.query(sql, &[]).await.unwrap_or_else(|e| panic!("digest: {e:?}"));
        match rs.rows.first().and_then(|r| r.first()) {
            Some(DbValue::Text(t)) => t.clone(),
            other => format!("{other:?}"),
        }
    }

    /// Runs one statement under A in a transaction that is rolled back: the outcome (namespace
    /// names replaced) and, for a write that ran, the digests of the rows that are not A's and of
    /// A's rows after it (a statement that failed changed nothing: its transaction is aborted).
    async fn run(&self, request: &Json, write: bool) -> (String, Option<(String, String)>) {
        // Unqualified names that are not the schema's tables resolve in the test's namespace too,
        // as they would in `public` for an application that keeps its tables there.
        let search_path = Value::String(format!("\"{}\"", self.namespace));
        let tx = self.driver.begin_with(None, "SELECT set_config('search_path', $1, true)", &[search_path]).await.expect("begin");
        let ctx = TenantContext::Tenant(Value::String("tnt_a".into()));
        let (outcome, digests) = match self.engine.request_in(&tx, Dialect::Postgres, request, &ctx).await {
            Ok(v) => {
                let digests = if write { Some((Self::digest(&tx, &self.others).await, Self::digest(&tx, &self.mine).await)) } else { None };
                (format!("ok {}", normalize(v)), digests)
            }
            Err(e) => (format!("error {} {} {}", e.code(), e.message(), Json::Object(e.meta().clone())), None),
        };
        let _ = tx.rollback().await;
        (outcome.replace(&self.namespace, "{ns}"), digests)
    }
}

/// Rows compared as a multiset (the order of an unordered query depends on the table's layout).
fn normalize(v: Json) -> String {
    match v {
        Json::Array(rows) => {
            let mut texts: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
            texts.sort();
            format!("[{}]", texts.join(","))
        }
        other => other.to_string(),
    }
}

#[tokio::test]
async fn raw_sql_under_a_tenant_is_blind_to_other_tenants() {
    let cases = env_number("QUARRY_RAWDIFF_CASES").unwrap_or(DEFAULT_CASES);
    let seed = env_number("QUARRY_RAWDIFF_SEED").unwrap_or(DEFAULT_SEED);
    let schema = corpus::read_file("corpus/schemas/tenants.prisma");
    let data = corpus::read_file("corpus/seeds/tenants.sql");
    let pid = std::process::id();
    let one = Db::open(format!("rawdiff_one_{pid}"), &schema, &data, false).await;
    let two = Db::open(format!("rawdiff_two_{pid}"), &schema, &data, true).await;
    // The two databases do differ in B's rows, and only there.
    let plain_one = Db::digest(&one.driver, &one.others).await;
    let plain_two = Db::digest(&two.driver, &two.others).await;
    assert_ne!(plain_one, plain_two, "the second database's B rows were not changed");
    assert_eq!(Db::digest(&one.driver, &one.mine).await, Db::digest(&two.driver, &two.mine).await);

    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let (mut ran, mut refused, mut failed, mut writes) = (0u64, 0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    for i in 0..cases {
        let mut g = Gen { rng: &mut rng, params: Vec::new(), namespace: "NS", with_names: Vec::new() };
        let (sql, write) = g.statement();
        let params = std::mem::take(&mut g.params);
        let action = if write && !sql.contains("RETURNING") { "executeRaw" } else { "queryRaw" };
        let request_for = |ns: &str| json!({"action": action, "args": {"query": sql.replace("\"NS\"", &format!("\"{ns}\"")), "parameters": params}});
        let (request_one, request_two) = (request_for(&one.namespace), request_for(&two.namespace));
        let ((a, da), (b, db)) = tokio::join!(one.run(&request_one, write), two.run(&request_two, write));
        writes += u64::from(write);
        if a.starts_with("ok") {
            ran += 1;
        } else if a.contains("Q3") {
            refused += 1;
        } else {
            failed += 1;
        }
        let mut problems = Vec::new();
        if a != b {
            problems.push(format!("outcomes differ:\n  one: {a}\n  two: {b}"));
        }
        for (name, d, baseline) in [("one", &da, &plain_one), ("two", &db, &plain_two)] {
            if let Some((after, _)) = d {
                if after != baseline {
                    problems.push(format!("rows that are not A's changed on database {name}"));
                }
            }
        }
        if let (Some((_, ma)), Some((_, mb))) = (&da, &db) {
            if ma != mb {
                problems.push("A's rows end differently on the two databases".into());
            }
        }
        if !problems.is_empty() {
            failures.push(format!("statement {i} (QUARRY_RAWDIFF_SEED={seed:#x}): {sql}\n  params: {params:?}\n  {}", problems.join("\n  ")));
            if failures.len() >= 5 {
                break;
            }
        }
    }
    corpus::drop_namespace(&one.driver, &one.namespace).await;
    corpus::drop_namespace(&two.driver, &two.namespace).await;
    println!(
        "raw SQL differential: {cases} statements ({writes} writes) under tenant A on two databases in {:.1?}: {ran} ran, {refused} refused by the guard, {failed} failed in the database",
        started.elapsed()
    );
    assert!(failures.is_empty(), "{} leak(s):\n{}", failures.len(), failures.join("\n\n"));
    // The generator must keep producing statements that run, or the test proves little.
    assert!(ran * 5 >= cases, "only {ran} of {cases} generated statements ran: the generator drifted");
}
