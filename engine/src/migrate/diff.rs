//! The difference between two [`Database`]s as the statements that turn one into the other, in
//! an order PostgreSQL accepts: foreign keys, policies, indexes and keys that go away are dropped
//! first; enum types are created or changed; tables are dropped, created and altered; keys,
//! indexes, foreign keys and policies are added; enum types that went away are dropped last.
//! Objects the target side got from the schema's DDL are created with that DDL's own statement
//! ([`Database::attach_sql`]); everything else is rendered from its data.
//!
//! Each step that can lose data or cannot run on some data carries a [`Risk`]; a risk with a
//! [`Check`] only applies when the check finds such data ([`super::apply::check`]).

use super::database::{Column, Constraint, ConstraintKind, Database, EnumType, Index, Policy, Table, quote};
use serde_json::{Value as Json, json};

/// One statement of a migration.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Prisma Migrate's comment for the statement: `CreateTable`, `AlterTable`, `AddForeignKey`, ...
    pub kind: &'static str,
    pub sql: String,
    pub risk: Option<Risk>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Risk {
    pub level: Level,
    pub message: String,
    /// When present, the risk applies only if the check finds data.
    pub check: Option<Check>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Data would be lost: refused unless the user accepts data loss.
    DataLoss,
    /// The statement would fail on the data that is there: refused.
    Unexecutable,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::DataLoss => "dataLoss",
            Level::Unexecutable => "unexecutable",
        }
    }
}

/// A question about the data in the database, asked before a risky step runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// The table has rows.
    Rows { table: String },
    /// The column holds a value that is not NULL.
    Values { table: String, column: String },
    /// The column holds a NULL.
    Nulls { table: String, column: String },
    /// Two rows have the same values in these columns (none NULL).
    Duplicates { table: String, columns: Vec<String> },
}

impl Step {
    fn new(kind: &'static str, sql: String) -> Step {
        Step { kind, sql, risk: None }
    }

    fn risky(kind: &'static str, sql: String, level: Level, message: String, check: Option<Check>) -> Step {
        Step { kind, sql, risk: Some(Risk { level, message, check }) }
    }

    pub fn to_json(&self) -> Json {
        let mut v = json!({ "kind": self.kind, "sql": self.sql });
        if let Some(r) = &self.risk {
            v["risk"] = json!({ "level": r.level.name(), "message": r.message });
        }
        v
    }
}

/// The migration script: each statement under Prisma Migrate's comment for it.
pub fn script(steps: &[Step]) -> String {
    steps.iter().map(|s| format!("-- {}\n{};\n", s.kind, s.sql)).collect::<Vec<_>>().join("\n")
}

/// The statements in phases, concatenated in this order.
#[derive(Default)]
struct Phases {
    drop_foreign_keys: Vec<Step>,
    drop_policies: Vec<Step>,
    drop_indexes: Vec<Step>,
    drop_keys: Vec<Step>,
    enums: Vec<Step>,
    drop_tables: Vec<Step>,
    create_tables: Vec<Step>,
    alter_tables: Vec<Step>,
    add_keys: Vec<Step>,
    create_indexes: Vec<Step>,
    add_foreign_keys: Vec<Step>,
    security: Vec<Step>,
    drop_enums: Vec<Step>,
}

impl Phases {
    fn into_steps(self) -> Vec<Step> {
        [
            self.drop_foreign_keys,
            self.drop_policies,
            self.drop_indexes,
            self.drop_keys,
            self.enums,
            self.drop_tables,
            self.create_tables,
            self.alter_tables,
            self.add_keys,
            self.create_indexes,
            self.add_foreign_keys,
            self.security,
            self.drop_enums,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The steps that turn `from` into `to`. With `rls`, row-level security (the flags and the
/// policies of each table) is compared too; without it, it is left as it is.
pub fn diff(from: &Database, to: &Database, rls: bool) -> Vec<Step> {
    let mut p = Phases::default();
    let kept: Vec<(&Table, &Table)> = to.tables.iter().filter_map(|t| from.table(&t.name).map(|f| (f, t))).collect();

    // Tables whose keys or unique indexes change, or whose columns change type: foreign keys that
    // refer to them (or hold such columns) are dropped first and added again afterwards.
    let mut rekeyed: Vec<&str> = Vec::new();
    for (f, t) in &kept {
        let key_changed = f.constraints.iter().filter(|c| c.kind != ConstraintKind::ForeignKey).any(|c| !t.constraints.iter().any(|x| same_constraint(c, x)))
            || f.indexes.iter().filter(|i| i.unique).any(|i| !t.indexes.iter().any(|x| same_index(i, x)));
        let retyped = f.columns.iter().any(|c| t.columns.iter().any(|x| x.name == c.name && x.ty != c.ty));
        if key_changed || retyped {
            rekeyed.push(&t.name);
        }
    }

    for f in from.tables.iter().filter(|f| to.table(&f.name).is_none()) {
        for c in f.constraints.iter().filter(|c| c.kind == ConstraintKind::ForeignKey) {
            p.drop_foreign_keys.push(drop_constraint("DropForeignKey", &f.name, &c.name));
        }
        p.drop_tables.push(Step::risky(
            "DropTable",
            format!("DROP TABLE {}", quote(&f.name)),
            Level::DataLoss,
            format!("You are about to drop the `{}` table, which is not empty.", f.name),
            Some(Check::Rows { table: f.name.clone() }),
        ));
    }
    let mut created: Vec<&Table> = to.tables.iter().filter(|t| from.table(&t.name).is_none()).collect();
    created.sort_by_key(|t| t.position.unwrap_or(usize::MAX));
    for t in created {
        p.create_tables.push(Step::new("CreateTable", t.sql.clone().unwrap_or_else(|| create_table(t))));
        for i in &t.indexes {
            p.create_indexes.push(create_index(&t.name, i));
        }
        for c in t.constraints.iter().filter(|c| c.kind == ConstraintKind::ForeignKey) {
            p.add_foreign_keys.push(add_constraint("AddForeignKey", &t.name, c));
        }
        if rls {
            security(&mut p, None, t);
        }
    }
    for (f, t) in &kept {
        foreign_keys(&mut p, f, t, &rekeyed);
        indexes(&mut p, f, t);
        keys(&mut p, f, t);
        columns(&mut p, f, t);
        if rls {
            security(&mut p, Some(f), t);
        }
    }
    enums(&mut p, from, to, &kept);
    p.into_steps()
}

fn same_constraint(a: &Constraint, b: &Constraint) -> bool {
    a.name == b.name && a.kind == b.kind && a.definition == b.definition
}

fn same_index(a: &Index, b: &Index) -> bool {
    a.name == b.name && a.unique == b.unique && a.definition == b.definition
}

fn same_policy(a: &Policy, b: &Policy) -> bool {
    a.name == b.name && a.command == b.command && a.permissive == b.permissive && a.roles == b.roles && a.using == b.using && a.check == b.check
}

fn drop_constraint(kind: &'static str, table: &str, name: &str) -> Step {
    Step::new(kind, format!("ALTER TABLE {} DROP CONSTRAINT {}", quote(table), quote(name)))
}

fn add_constraint(kind: &'static str, table: &str, c: &Constraint) -> Step {
    Step::new(kind, c.sql.clone().unwrap_or_else(|| format!("ALTER TABLE {} ADD CONSTRAINT {} {}", quote(table), quote(&c.name), c.definition)))
}

fn create_index(table: &str, i: &Index) -> Step {
    let sql = i.sql.clone().unwrap_or_else(|| {
        format!("CREATE {}INDEX {} ON {} USING {}", if i.unique { "UNIQUE " } else { "" }, quote(&i.name), quote(table), i.definition)
    });
    Step::new("CreateIndex", sql)
}

fn foreign_keys(p: &mut Phases, f: &Table, t: &Table, rekeyed: &[&str]) {
    let fks = |x: &Table| x.constraints.iter().filter(|c| c.kind == ConstraintKind::ForeignKey).cloned().collect::<Vec<_>>();
    let (old, new) = (fks(f), fks(t));
    let retyped = |c: &Constraint| c.columns.iter().any(|col| {
        let (a, b) = (f.columns.iter().find(|x| &x.name == col), t.columns.iter().find(|x| &x.name == col));
        matches!((a, b), (Some(a), Some(b)) if a.ty != b.ty)
    });
    let rebuilt = |c: &Constraint| c.references.as_deref().is_some_and(|r| rekeyed.contains(&r)) || retyped(c);
    for c in &old {
        match new.iter().find(|x| x.name == c.name) {
            Some(x) if same_constraint(c, x) && !rebuilt(c) => {}
            _ => p.drop_foreign_keys.push(drop_constraint("DropForeignKey", &f.name, &c.name)),
        }
    }
    for c in &new {
        match old.iter().find(|x| x.name == c.name) {
            Some(x) if same_constraint(x, c) && !rebuilt(x) => {}
            _ => p.add_foreign_keys.push(add_constraint("AddForeignKey", &t.name, c)),
        }
    }
}

fn indexes(p: &mut Phases, f: &Table, t: &Table) {
    let mut renamed: Vec<&str> = Vec::new();
    for i in &f.indexes {
        if t.indexes.iter().any(|x| same_index(i, x)) {
            continue;
        }
        // The same index under a new name is renamed, not rebuilt.
        let target = t.indexes.iter().find(|x| {
            x.unique == i.unique && x.definition == i.definition && !f.indexes.iter().any(|y| y.name == x.name) && !renamed.contains(&x.name.as_str())
        });
        match target {
            Some(x) if !t.indexes.iter().any(|y| y.name == i.name) => {
                renamed.push(&x.name);
                p.drop_indexes.push(Step::new("RenameIndex", format!("ALTER INDEX {} RENAME TO {}", quote(&i.name), quote(&x.name))));
            }
            _ => p.drop_indexes.push(Step::new("DropIndex", format!("DROP INDEX {}", quote(&i.name)))),
        }
    }
    for i in &t.indexes {
        if f.indexes.iter().any(|x| same_index(x, i)) || renamed.contains(&i.name.as_str()) {
            continue;
        }
        let mut step = create_index(&t.name, i);
        // Columns added by the same change cannot be checked yet; the database has the last word.
        if i.unique && !i.columns.is_empty() && i.columns.iter().all(|c| f.columns.iter().any(|x| &x.name == c)) {
            step.risk = Some(Risk {
                level: Level::Unexecutable,
                message: format!(
                    "A unique index on the `{}` table ({}) is added, but the table has rows with the same values there: remove the duplicates first.",
                    t.name,
                    i.columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                ),
                check: Some(Check::Duplicates { table: t.name.clone(), columns: i.columns.clone() }),
            });
        }
        p.create_indexes.push(step);
    }
}

/// Primary keys and unique constraints.
fn keys(p: &mut Phases, f: &Table, t: &Table) {
    let keys = |x: &Table| x.constraints.iter().filter(|c| c.kind != ConstraintKind::ForeignKey).cloned().collect::<Vec<_>>();
    let (old, new) = (keys(f), keys(t));
    let mut renamed: Vec<&str> = Vec::new();
    for c in &old {
        if new.iter().any(|x| same_constraint(c, x)) {
            continue;
        }
        let target = new.iter().find(|x| x.kind == c.kind && x.definition == c.definition && !old.iter().any(|y| y.name == x.name));
        match target {
            Some(x) if !new.iter().any(|y| y.name == c.name) => {
                renamed.push(&x.name);
                p.drop_keys.push(Step::new(
                    "RenameConstraint",
                    format!("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", quote(&f.name), quote(&c.name), quote(&x.name)),
                ));
            }
            _ => p.drop_keys.push(drop_constraint("DropConstraint", &f.name, &c.name)),
        }
    }
    for c in &new {
        if old.iter().any(|x| same_constraint(x, c)) || renamed.contains(&c.name.as_str()) {
            continue;
        }
        let mut step = add_constraint("AddConstraint", &t.name, c);
        if !c.columns.iter().all(|c| f.columns.iter().any(|x| &x.name == c)) {
            p.add_keys.push(step);
            continue;
        }
        step.risk = Some(Risk {
            level: Level::Unexecutable,
            message: format!(
                "A {} on the `{}` table ({}) is added, but the table has rows with the same values there: remove the duplicates first.",
                if c.kind == ConstraintKind::PrimaryKey { "primary key" } else { "unique constraint" },
                t.name,
                c.columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ),
            check: Some(Check::Duplicates { table: t.name.clone(), columns: c.columns.clone() }),
        });
        p.add_keys.push(step);
    }
}

fn alter(table: &str, rest: String) -> String {
    format!("ALTER TABLE {} {rest}", quote(table))
}

/// `nextval('"User_id_seq"'::regclass)` -> `"User_id_seq"`.
fn sequence_of(default: &str) -> Option<&str> {
    default.strip_prefix("nextval('")?.split_once("'::regclass)").map(|(s, _)| s)
}

/// Type changes that keep every value: widening integers, floats, lengths and precisions.
fn widens(from: &str, to: &str) -> bool {
    fn args(t: &str, base: &str) -> Option<Vec<u32>> {
        let rest = t.strip_prefix(base)?;
        if rest.is_empty() {
            return Some(vec![]);
        }
        let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
        inner.split(',').map(|n| n.trim().parse().ok()).collect()
    }
    let rank = |t: &str| ["smallint", "integer", "bigint"].iter().position(|x| *x == t);
    if let (Some(a), Some(b)) = (rank(from), rank(to)) {
        return a <= b;
    }
    if from == "real" && to == "double precision" {
        return true;
    }
    if to == "text" && (from.starts_with("character varying") || from.starts_with("character(")) {
        return true;
    }
    if let (Some(a), Some(b)) = (args(from, "character varying"), args(to, "character varying")) {
        return b.is_empty() || (!a.is_empty() && b[0] >= a[0]);
    }
    if let (Some(a), Some(b)) = (args(from, "numeric"), args(to, "numeric")) {
        return match (a.as_slice(), b.as_slice()) {
            (_, []) => true,
            ([p1, s1], [p2, s2]) => s2 >= s1 && p2 - s2 >= p1 - s1,
            ([p1], [p2, s2]) => p2 - s2 >= *p1,
            _ => false,
        };
    }
    for zone in [" without time zone", " with time zone"] {
        for base in ["timestamp", "time"] {
            let strip = |t: &str| t.strip_suffix(zone).and_then(|x| args(x, base));
            if let (Some(a), Some(b)) = (strip(from), strip(to)) {
                let precision = |v: &[u32]| v.first().copied().unwrap_or(6);
                return precision(&b) >= precision(&a);
            }
        }
    }
    false
}

/// A column's definition rendered from its data (used when the DDL has no line for it).
fn column_definition(c: &Column) -> String {
    let mut out = quote(&c.name);
    let serial = c.serial.then(|| match c.ty.as_str() {
        "smallint" => Some("SMALLSERIAL"),
        "integer" => Some("SERIAL"),
        "bigint" => Some("BIGSERIAL"),
        _ => None,
    });
    match serial.flatten() {
        Some(s) => out.push_str(&format!(" {s}")),
        None => out.push_str(&format!(" {}", c.ty)),
    }
    if let Some(kind) = &c.identity {
        out.push_str(if kind == "a" { " GENERATED ALWAYS AS IDENTITY" } else { " GENERATED BY DEFAULT AS IDENTITY" });
    }
    if let Some(expr) = &c.generated {
        out.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    }
    if c.not_null {
        out.push_str(" NOT NULL");
    }
    if let (Some(d), false) = (&c.default, serial.flatten().is_some()) {
        out.push_str(&format!(" DEFAULT {d}"));
    }
    out
}

fn create_table(t: &Table) -> String {
    let mut lines: Vec<String> = t.columns.iter().map(|c| format!("    {}", column_definition(c))).collect();
    for c in t.constraints.iter().filter(|c| c.kind != ConstraintKind::ForeignKey) {
        lines.push(format!("    CONSTRAINT {} {}", quote(&c.name), c.definition));
    }
    format!("CREATE TABLE {} (\n{}\n)", quote(&t.name), lines.join(",\n"))
}

fn columns(p: &mut Phases, f: &Table, t: &Table) {
    let name = &t.name;
    for c in f.columns.iter().filter(|c| !t.columns.iter().any(|x| x.name == c.name)) {
        p.alter_tables.push(Step::risky(
            "AlterTable",
            alter(name, format!("DROP COLUMN {}", quote(&c.name))),
            Level::DataLoss,
            format!("You are about to drop the column `{}` on the `{name}` table, which still contains non-null values.", c.name),
            Some(Check::Values { table: name.clone(), column: c.name.clone() }),
        ));
    }
    for c in &t.columns {
        let Some(old) = f.columns.iter().find(|x| x.name == c.name) else {
            let sql = alter(name, format!("ADD COLUMN {}", c.sql.clone().unwrap_or_else(|| column_definition(c))));
            let required = c.not_null && c.default.is_none() && !c.serial && c.identity.is_none() && c.generated.is_none();
            p.alter_tables.push(if required {
                Step::risky(
                    "AlterTable",
                    sql,
                    Level::Unexecutable,
                    format!(
                        "Added the required column `{}` to the `{name}` table without a default value. There are rows in this table, it is \
                         not possible to execute this step: give the field a default (@default), or make it optional, fill it, then \
                         make it required.",
                        c.name
                    ),
                    Some(Check::Rows { table: name.clone() }),
                )
            } else {
                Step::new("AlterTable", sql)
            });
            continue;
        };
        column_changes(p, name, old, c);
    }
}

fn column_changes(p: &mut Phases, table: &str, old: &Column, new: &Column) {
    let col = quote(&new.name);
    let step = |sql: String| Step::new("AlterTable", alter(table, sql));
    if old.generated != new.generated {
        // A generated column is recomputed from the others: dropping and adding it loses nothing.
        p.alter_tables.push(step(format!("DROP COLUMN {col}")));
        p.alter_tables.push(step(format!("ADD COLUMN {}", new.sql.clone().unwrap_or_else(|| column_definition(new)))));
        return;
    }
    let mut default_dropped = false;
    if old.ty != new.ty {
        if old.default.is_some() {
            p.alter_tables.push(step(format!("ALTER COLUMN {col} DROP DEFAULT")));
            default_dropped = true;
        }
        let sql = alter(table, format!("ALTER COLUMN {col} SET DATA TYPE {} USING {col}::{}", new.ty, new.ty));
        p.alter_tables.push(if widens(&old.ty, &new.ty) {
            Step::new("AlterTable", sql)
        } else {
            Step::risky(
                "AlterTable",
                sql,
                Level::DataLoss,
                format!(
                    "You are about to alter the column `{}` on the `{table}` table, which contains non-null values. The data in that \
                     column will be cast from `{}` to `{}`: values may be cut, rounded, or fail to convert.",
                    new.name, old.ty, new.ty
                ),
                Some(Check::Values { table: table.to_owned(), column: new.name.clone() }),
            )
        });
    }
    match (old.not_null, new.not_null) {
        (false, true) => p.alter_tables.push(Step::risky(
            "AlterTable",
            alter(table, format!("ALTER COLUMN {col} SET NOT NULL")),
            Level::Unexecutable,
            format!(
                "Made the column `{}` on table `{table}` required, but there are existing NULL values: fill them first (or give the \
                 field a default and fill the NULLs in a migration).",
                new.name
            ),
            Some(Check::Nulls { table: table.to_owned(), column: new.name.clone() }),
        )),
        (true, false) => p.alter_tables.push(step(format!("ALTER COLUMN {col} DROP NOT NULL"))),
        _ => {}
    }
    match (&old.identity, &new.identity) {
        (None, Some(k)) => p.alter_tables.push(step(format!(
            "ALTER COLUMN {col} ADD GENERATED {} AS IDENTITY",
            if k == "a" { "ALWAYS" } else { "BY DEFAULT" }
        ))),
        (Some(_), None) => p.alter_tables.push(step(format!("ALTER COLUMN {col} DROP IDENTITY IF EXISTS"))),
        (Some(a), Some(b)) if a != b => {
            p.alter_tables.push(step(format!("ALTER COLUMN {col} SET GENERATED {}", if b == "a" { "ALWAYS" } else { "BY DEFAULT" })))
        }
        _ => {}
    }
    match (old.serial, new.serial) {
        (false, true) => {
            // A new sequence owned by the column, starting after the values already there.
            let Some(seq) = new.default.as_deref().and_then(sequence_of) else { return };
            p.alter_tables.push(Step::new("CreateSequence", format!("CREATE SEQUENCE {seq}")));
            p.alter_tables.push(step(format!("ALTER COLUMN {col} SET DEFAULT nextval('{seq}'::regclass)")));
            p.alter_tables.push(Step::new("AlterSequence", format!("ALTER SEQUENCE {seq} OWNED BY {}.{col}", quote(table))));
            p.alter_tables.push(Step::new(
                "AlterSequence",
                format!("SELECT setval('{seq}', COALESCE(max({col}), 0) + 1, false) FROM {}", quote(table)),
            ));
        }
        (true, false) => {
            p.alter_tables.push(match &new.default {
                Some(d) => step(format!("ALTER COLUMN {col} SET DEFAULT {d}")),
                None => step(format!("ALTER COLUMN {col} DROP DEFAULT")),
            });
            if let Some(seq) = old.default.as_deref().and_then(sequence_of) {
                p.alter_tables.push(Step::new("DropSequence", format!("DROP SEQUENCE IF EXISTS {seq}")));
            }
        }
        (true, true) => {}
        (false, false) => {
            if old.default != new.default || (default_dropped && new.default.is_some()) {
                match &new.default {
                    Some(d) => p.alter_tables.push(step(format!("ALTER COLUMN {col} SET DEFAULT {d}"))),
                    None if !default_dropped => p.alter_tables.push(step(format!("ALTER COLUMN {col} DROP DEFAULT"))),
                    None => {}
                }
            }
        }
    }
}

fn create_policy(table: &str, x: &Policy) -> Step {
    let sql = x.sql.clone().unwrap_or_else(|| {
        let mut sql = format!(
            "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
            quote(&x.name),
            quote(table),
            if x.permissive { "PERMISSIVE" } else { "RESTRICTIVE" },
            x.command,
            if x.roles.is_empty() { "PUBLIC".to_owned() } else { x.roles.join(", ") }
        );
        if let Some(u) = &x.using {
            sql.push_str(&format!(" USING ({u})"));
        }
        if let Some(c) = &x.check {
            sql.push_str(&format!(" WITH CHECK ({c})"));
        }
        sql
    });
    Step::new("CreatePolicy", sql)
}

/// Row-level security: the table's flags and policies.
fn security(p: &mut Phases, f: Option<&Table>, t: &Table) {
    let table = quote(&t.name);
    let (rls, force) = f.map_or((false, false), |f| (f.rls, f.force_rls));
    if t.rls != rls {
        p.security.push(Step::new("AlterTable", format!("ALTER TABLE {table} {} ROW LEVEL SECURITY", if t.rls { "ENABLE" } else { "DISABLE" })));
    }
    if t.force_rls != force {
        p.security.push(Step::new("AlterTable", format!("ALTER TABLE {table} {} ROW LEVEL SECURITY", if t.force_rls { "FORCE" } else { "NO FORCE" })));
    }
    let old: &[Policy] = f.map_or(&[], |f| &f.policies);
    for x in old {
        if !t.policies.iter().any(|y| same_policy(x, y)) {
            p.drop_policies.push(Step::new("DropPolicy", format!("DROP POLICY {} ON {table}", quote(&x.name))));
        }
    }
    for x in &t.policies {
        if !old.iter().any(|y| same_policy(y, x)) {
            p.security.push(create_policy(&t.name, x));
        }
    }
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn create_enum(e: &EnumType) -> String {
    e.sql.clone().unwrap_or_else(|| {
        format!("CREATE TYPE {} AS ENUM ({})", quote(&e.name), e.values.iter().map(|v| literal(v)).collect::<Vec<_>>().join(", "))
    })
}

/// Whether `old` keeps its order inside `new` (values were only inserted).
fn only_inserted(old: &[String], new: &[String]) -> bool {
    let mut it = new.iter();
    old.iter().all(|v| it.any(|x| x == v))
}

fn enums(p: &mut Phases, from: &Database, to: &Database, kept: &[(&Table, &Table)]) {
    let mut ordered: Vec<&EnumType> = to.enums.iter().collect();
    ordered.sort_by_key(|e| e.position.unwrap_or(usize::MAX));
    for e in ordered {
        let Some(old) = from.enum_type(&e.name) else {
            p.enums.push(Step::new("CreateEnum", create_enum(e)));
            continue;
        };
        if old.values == e.values {
            continue;
        }
        let name = quote(&e.name);
        // PostgreSQL refuses to use a value added by ALTER TYPE ... ADD VALUE before the
        // transaction commits; when a default of the new state uses one, the type is rebuilt.
        let added: Vec<&String> = e.values.iter().filter(|v| !old.values.contains(v)).collect();
        let used = to.tables.iter().flat_map(|t| &t.columns).any(|c| {
            c.enum_type.as_deref() == Some(&e.name) && c.default.as_deref().is_some_and(|d| added.iter().any(|v| d.contains(&literal(v))))
        });
        if only_inserted(&old.values, &e.values) && !used {
            for (i, v) in e.values.iter().enumerate() {
                if old.values.contains(v) {
                    continue;
                }
                let before = e.values[i + 1..].iter().find(|x| old.values.contains(x));
                let place = before.map(|b| format!(" BEFORE {}", literal(b))).unwrap_or_default();
                p.enums.push(Step::new("AlterEnum", format!("ALTER TYPE {name} ADD VALUE {}{place}", literal(v))));
            }
            continue;
        }
        // Values removed or reordered: a new type, the columns cast to it through text.
        let removed: Vec<&String> = old.values.iter().filter(|v| !e.values.contains(v)).collect();
        let renamed = quote(&format!("{}_old", e.name));
        let mut first = Step::new("AlterEnum", format!("ALTER TYPE {name} RENAME TO {renamed}"));
        if !removed.is_empty() {
            first.risk = Some(Risk {
                level: Level::DataLoss,
                message: format!(
                    "The values [{}] on the enum `{}` will be removed. If these variants are still used in the database, this will fail.",
                    removed.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(","),
                    e.name
                ),
                check: None,
            });
        }
        p.enums.push(first);
        p.enums.push(Step::new("AlterEnum", create_enum(&EnumType { sql: None, position: None, ..e.clone() })));
        for (ft, tt) in kept {
            for c in &tt.columns {
                let Some(oc) = ft.columns.iter().find(|x| x.name == c.name) else { continue };
                if c.enum_type.as_deref() != Some(&e.name) || oc.enum_type.as_deref() != Some(&e.name) {
                    continue;
                }
                let col = quote(&c.name);
                if oc.default.is_some() {
                    p.enums.push(Step::new("AlterEnum", alter(&tt.name, format!("ALTER COLUMN {col} DROP DEFAULT"))));
                }
                let list = if c.ty.ends_with("[]") { "[]" } else { "" };
                p.enums.push(Step::new(
                    "AlterEnum",
                    alter(&tt.name, format!("ALTER COLUMN {col} TYPE {name}{list} USING ({col}::text{list}::{name}{list})")),
                ));
                if let Some(d) = &c.default {
                    p.enums.push(Step::new("AlterEnum", alter(&tt.name, format!("ALTER COLUMN {col} SET DEFAULT {d}"))));
                }
            }
        }
        p.drop_enums.push(Step::new("DropEnum", format!("DROP TYPE {renamed}")));
    }
    for e in from.enums.iter().filter(|e| to.enum_type(&e.name).is_none()) {
        p.drop_enums.push(Step::new("DropEnum", format!("DROP TYPE {}", quote(&e.name))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: &str, not_null: bool) -> Column {
        Column { name: name.into(), ty: ty.into(), not_null, ..Column::default() }
    }

    #[test]
    fn widening_casts_keep_every_value() {
        for (a, b) in [
            ("integer", "bigint"),
            ("smallint", "integer"),
            ("character varying(10)", "character varying(20)"),
            ("character varying(10)", "text"),
            ("character varying(10)", "character varying"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric(65,30)"),
            ("timestamp(3) without time zone", "timestamp(6) without time zone"),
            ("real", "double precision"),
        ] {
            assert!(widens(a, b), "{a} -> {b}");
        }
        for (a, b) in [
            ("bigint", "integer"),
            ("text", "integer"),
            ("character varying(20)", "character varying(10)"),
            ("text", "character varying(10)"),
            ("numeric(12,2)", "numeric(12,4)"),
            ("timestamp(6) without time zone", "timestamp(3) without time zone"),
            ("timestamp(3) without time zone", "timestamp(3) with time zone"),
        ] {
            assert!(!widens(a, b), "{a} -> {b}");
        }
    }

    #[test]
    fn nothing_changes_between_equal_databases() {
        let t = Table { name: "T".into(), columns: vec![col("id", "integer", true)], ..Table::default() };
        let db = Database { enums: vec![], tables: vec![t] };
        assert!(diff(&db, &db, true).is_empty());
    }

    #[test]
    fn enum_values_inserted_keep_their_place() {
        let e = |values: &[&str]| Database {
            enums: vec![EnumType { name: "E".into(), values: values.iter().map(|v| v.to_string()).collect(), ..EnumType::default() }],
            tables: vec![],
        };
        let steps = diff(&e(&["a", "c"]), &e(&["a", "b", "c", "d"]), false);
        let sql: Vec<&str> = steps.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(sql, [r#"ALTER TYPE "E" ADD VALUE 'b' BEFORE 'c'"#, r#"ALTER TYPE "E" ADD VALUE 'd'"#]);
        let steps = diff(&e(&["a", "b"]), &e(&["b"]), false);
        assert!(steps[0].risk.as_ref().is_some_and(|r| r.level == Level::DataLoss));
        assert_eq!(steps.last().map(|s| s.sql.as_str()), Some(r#"DROP TYPE "E_old""#));
    }

    #[test]
    fn a_required_column_without_default_is_checked_against_the_rows() {
        let from = Database { enums: vec![], tables: vec![Table { name: "T".into(), columns: vec![col("id", "integer", true)], ..Table::default() }] };
        let mut to = from.clone();
        to.tables[0].columns.push(col("name", "text", true));
        let steps = diff(&from, &to, false);
        assert_eq!(steps.len(), 1);
        let risk = steps[0].risk.as_ref().expect("a risk");
        assert_eq!(risk.level, Level::Unexecutable);
        assert_eq!(risk.check, Some(Check::Rows { table: "T".into() }));
        assert_eq!(steps[0].sql, r#"ALTER TABLE "T" ADD COLUMN "name" text NOT NULL"#);
    }
}
