//! What a PostgreSQL schema (namespace) holds, as data: enum types, tables with their columns,
//! keys, foreign keys, indexes and row-level security policies. Both sides of every comparison are
//! read from the catalogs by the same query ([`introspect`]): the live database, and the schema's
//! own DDL run in a throwaway namespace ([`super::apply::shadow`]). So a type, a default or an
//! index reads exactly the same on both sides when it is the same, whatever text created it.
//!
//! The introspection runs with the namespace first on the search path, so names inside it print
//! unqualified (`"Role"`, `nextval('"User_id_seq"'::regclass)`, `REFERENCES "User"(id)`) and
//! everything here can be rendered again into any namespace.
//!
//! Objects a Prisma schema cannot describe (check and exclusion constraints, triggers, views,
//! functions, sequences of their own) are not read, so nothing ever proposes to drop them.

use crate::error::{Error, Result, codes};
use crate::exec::{DbValue, Queryable};
use crate::value::Value;
use serde::{Deserialize, Serialize};

/// The migration history table, Prisma Migrate's own: never part of a comparison.
pub const HISTORY_TABLE: &str = "_prisma_migrations";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Database {
    pub enums: Vec<EnumType>,
    pub tables: Vec<Table>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnumType {
    pub name: String,
    pub values: Vec<String>,
    /// The DDL statement that creates it, when it comes from the schema's DDL, and its place there.
    #[serde(skip)]
    pub sql: Option<String>,
    #[serde(skip)]
    pub position: Option<usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Primary keys, unique constraints and foreign keys.
    pub constraints: Vec<Constraint>,
    /// Indexes that back no constraint.
    pub indexes: Vec<Index>,
    #[serde(default)]
    pub rls: bool,
    #[serde(default)]
    pub force_rls: bool,
    #[serde(default)]
    pub policies: Vec<Policy>,
    #[serde(skip)]
    pub sql: Option<String>,
    /// Where the DDL creates it, so new tables are created in the schema's order.
    #[serde(skip)]
    pub position: Option<usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Column {
    pub name: String,
    /// `format_type`: `integer`, `character varying(255)`, `"Role"[]`, `timestamp(3) without time zone`.
    #[serde(rename = "type")]
    pub ty: String,
    pub not_null: bool,
    /// `pg_get_expr` of the default: `'USER'::"Role"`, `CURRENT_TIMESTAMP`, `nextval(...)`.
    pub default: Option<String>,
    /// A `serial` column: its default draws from a sequence the column owns.
    #[serde(default)]
    pub serial: bool,
    /// `a` (ALWAYS) or `d` (BY DEFAULT) for identity columns.
    #[serde(default)]
    pub identity: Option<String>,
    /// The expression of a generated column.
    #[serde(default)]
    pub generated: Option<String>,
    /// The enum type of the column (or of its elements), when it is one of the namespace's.
    #[serde(default, rename = "enum")]
    pub enum_type: Option<String>,
    /// The column's definition in the schema's CREATE TABLE (`"role" "Role" NOT NULL DEFAULT 'USER'`).
    #[serde(skip)]
    pub sql: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstraintKind {
    #[serde(rename = "p")]
    PrimaryKey,
    #[serde(rename = "u")]
    Unique,
    #[serde(rename = "f")]
    ForeignKey,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    /// `pg_get_constraintdef`: `PRIMARY KEY (id)`, `FOREIGN KEY ("authorId") REFERENCES "User"(id) ON ...`.
    pub definition: String,
    pub columns: Vec<String>,
    /// The referenced table of a foreign key.
    #[serde(default)]
    pub references: Option<String>,
    #[serde(skip)]
    pub sql: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// What follows `USING` in `pg_get_indexdef`: `btree ("authorId" DESC, title text_pattern_ops)`.
    pub definition: String,
    /// The indexed columns when they are plain columns (empty for expressions).
    pub columns: Vec<String>,
    #[serde(skip)]
    pub sql: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    /// `SELECT`, `INSERT`, `UPDATE`, `DELETE` or `ALL`.
    pub command: String,
    pub permissive: bool,
    pub roles: Vec<String>,
    #[serde(default)]
    pub using: Option<String>,
    #[serde(default)]
    pub check: Option<String>,
    #[serde(skip)]
    pub sql: Option<String>,
}

impl Database {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn enum_type(&self, name: &str) -> Option<&EnumType> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// Whether row-level security is on for any table.
    pub fn has_rls(&self) -> bool {
        self.tables.iter().any(|t| t.rls || !t.policies.is_empty())
    }

    /// Remembers, for each object, the DDL statement that creates it (statements of
    /// [`crate::ddl`], unqualified), so changes that create objects read like the schema's DDL.
    /// Objects are recognised by how each statement starts; one that no statement creates is
    /// rendered from its data instead.
    pub fn attach_sql(&mut self, statements: &[String]) {
        for (position, stmt) in statements.iter().enumerate() {
            for e in &mut self.enums {
                if stmt.starts_with(&format!("CREATE TYPE {} ", quote(&e.name))) {
                    e.sql = Some(stmt.clone());
                    e.position = Some(position);
                }
            }
            for t in &mut self.tables {
                let table = quote(&t.name);
                if stmt.starts_with(&format!("CREATE TABLE {table} (")) {
                    t.sql = Some(stmt.clone());
                    t.position = Some(position);
                    for c in &mut t.columns {
                        let head = format!("{} ", quote(&c.name));
                        c.sql = stmt.lines().skip(1).map(str::trim).find(|l| l.starts_with(&head)).map(|l| l.trim_end_matches(',').to_owned());
                    }
                }
                for i in &mut t.indexes {
                    let name = quote(&i.name);
                    let ways = [format!("CREATE INDEX {name} ON {table}"), format!("CREATE UNIQUE INDEX {name} ON {table}")];
                    let if_not_exists = format!("CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table}");
                    if ways.iter().any(|w| stmt.starts_with(w.as_str())) || stmt.starts_with(&if_not_exists) {
                        i.sql = Some(stmt.clone());
                    }
                }
                for c in &mut t.constraints {
                    if stmt.starts_with(&format!("ALTER TABLE {table} ADD CONSTRAINT {} ", quote(&c.name))) {
                        c.sql = Some(stmt.clone());
                    }
                }
                for p in &mut t.policies {
                    if stmt.starts_with(&format!("CREATE POLICY {} ON {table} ", quote(&p.name))) {
                        p.sql = Some(stmt.clone());
                    }
                }
            }
        }
    }
}

pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One query, one JSON document: everything in namespace `$1` that a Prisma schema can describe.
/// Names inside the namespace print unqualified because it is first on the search path (the
/// caller sets it, see [`super::apply::search_path`]).
const INTROSPECT_SQL: &str = r#"
SELECT json_build_object(
  'exists', n.oid IS NOT NULL,
  'enums', COALESCE((
    SELECT json_agg(json_build_object(
      'name', t.typname,
      'values', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
    ) ORDER BY t.typname)
    FROM pg_type t WHERE t.typnamespace = n.oid AND t.typtype = 'e'), '[]'::json),
  'tables', COALESCE((
    SELECT json_agg(json_build_object(
      'name', c.relname,
      'qualified', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
      'rls', c.relrowsecurity,
      'forceRls', c.relforcerowsecurity,
      'columns', COALESCE((
        SELECT json_agg(json_build_object(
          'name', a.attname,
          'type', format_type(a.atttypid, a.atttypmod),
          'notNull', a.attnotnull,
          'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
          'serial', a.attidentity = '' AND EXISTS (
            SELECT 1 FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
            WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum
              AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'a'),
          'identity', NULLIF(a.attidentity, ''),
          'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
          'enum', (
            SELECT et.typname FROM pg_type ct
            JOIN pg_type et ON et.oid = CASE WHEN ct.typcategory = 'A' THEN ct.typelem ELSE ct.oid END
            WHERE ct.oid = a.atttypid AND et.typtype = 'e' AND et.typnamespace = n.oid)
        ) ORDER BY a.attnum)
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json),
      'constraints', COALESCE((
        SELECT json_agg(json_build_object(
          'name', k.conname,
          'kind', k.contype,
          'definition', pg_get_constraintdef(k.oid, true),
          'columns', (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
                      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num),
          'references', (SELECT r.relname FROM pg_class r WHERE r.oid = k.confrelid)
        ) ORDER BY k.conname)
        FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f')), '[]'::json),
      'indexes', COALESCE((
        SELECT json_agg(json_build_object(
          'name', ic.relname,
          'unique', i.indisunique,
          'definition', pg_get_indexdef(i.indexrelid),
          'columns', CASE WHEN NOT (0 = ANY (i.indkey::int2[])) THEN
            (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(num, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.num WHERE u.ord <= i.indnkeyatts)
            ELSE '[]'::json END
        ) ORDER BY ic.relname)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = c.oid AND NOT EXISTS (
          SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = c.oid AND k.contype IN ('p', 'u', 'x'))), '[]'::json),
      'policies', COALESCE((
        SELECT json_agg(json_build_object(
          'name', p.polname,
          'command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
          'permissive', p.polpermissive,
          'roles', (SELECT json_agg(x.name ORDER BY x.name) FROM (
                      SELECT CASE WHEN r.role = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.role)) END AS name
                      FROM unnest(p.polroles) r(role)) x),
          'using', pg_get_expr(p.polqual, p.polrelid),
          'check', pg_get_expr(p.polwithcheck, p.polrelid)
        ) ORDER BY p.polname)
        FROM pg_policy p WHERE p.polrelid = c.oid), '[]'::json)
    ) ORDER BY c.relname)
    FROM pg_class c
    WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> '_prisma_migrations'), '[]'::json)
)::text
FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = $1
"#;

/// The introspection document as the query returns it (`qualified` and the full index
/// definitions are only needed to read the rest).
#[derive(Deserialize)]
struct Raw {
    exists: bool,
    enums: Vec<RawEnum>,
    tables: Vec<RawTable>,
}

#[derive(Deserialize)]
struct RawEnum {
    name: String,
    values: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTable {
    name: String,
    qualified: String,
    rls: bool,
    force_rls: bool,
    columns: Vec<Column>,
    constraints: Vec<RawConstraint>,
    indexes: Vec<RawIndex>,
    policies: Vec<RawPolicy>,
}

#[derive(Deserialize)]
struct RawConstraint {
    name: String,
    kind: ConstraintKind,
    definition: String,
    columns: Option<Vec<String>>,
    references: Option<String>,
}

#[derive(Deserialize)]
struct RawIndex {
    name: String,
    unique: bool,
    definition: String,
    columns: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawPolicy {
    name: String,
    command: String,
    permissive: bool,
    roles: Option<Vec<String>>,
    using: Option<String>,
    check: Option<String>,
}

/// What namespace `namespace` holds, and whether it exists. Run it with the namespace first on the
/// search path.
pub async fn introspect<Q: Queryable>(q: &Q, namespace: &str) -> Result<(Database, bool)> {
    let rs = q.query(INTROSPECT_SQL, &[Value::String(namespace.to_owned())]).await.map_err(|e| super::database_error(e, "reading the database's tables"))?;
    let text = match rs.rows.first().and_then(|r| r.first()) {
        Some(DbValue::Text(t)) => t.clone(),
        _ => return Err(Error::internal("the introspection query returned no document")),
    };
    let raw: Raw = serde_json::from_str(&text).map_err(|e| Error::internal(format!("the introspection document does not read: {e}")))?;
    let enums = raw.enums.into_iter().map(|e| EnumType { name: e.name, values: e.values.unwrap_or_default(), sql: None, position: None }).collect();
    let tables = raw
        .tables
        .into_iter()
        .map(|t| {
            let indexes = t
                .indexes
                .into_iter()
                .map(|i| {
                    let definition = index_body(&i.definition, &t.qualified).ok_or_else(|| {
                        Error::new(codes::INTERNAL, format!("index {} of table {}: its definition does not read", i.name, t.name))
                    })?;
                    Ok(Index { name: i.name, unique: i.unique, definition, columns: i.columns.unwrap_or_default(), sql: None })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Table {
                name: t.name,
                columns: t.columns,
                constraints: t
                    .constraints
                    .into_iter()
                    .map(|c| Constraint {
                        name: c.name,
                        kind: c.kind,
                        definition: c.definition,
                        columns: c.columns.unwrap_or_default(),
                        references: c.references,
                        sql: None,
                    })
                    .collect(),
                indexes,
                rls: t.rls,
                force_rls: t.force_rls,
                position: None,
                policies: t
                    .policies
                    .into_iter()
                    .map(|p| Policy {
                        name: p.name,
                        command: p.command,
                        permissive: p.permissive,
                        roles: p.roles.unwrap_or_default(),
                        using: p.using,
                        check: p.check,
                        sql: None,
                    })
                    .collect(),
                sql: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((Database { enums, tables }, raw.exists))
}

/// `CREATE INDEX "a" ON ns."T" USING btree (id)` -> `btree (id)`: the definition without its
/// names, which `pg_get_indexdef` always qualifies.
fn index_body(definition: &str, qualified: &str) -> Option<String> {
    [format!(" ON {qualified} USING "), format!(" ON ONLY {qualified} USING ")]
        .iter()
        .find_map(|on| definition.find(on.as_str()).map(|i| definition[i + on.len()..].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_bodies_drop_the_qualified_table() {
        assert_eq!(index_body(r#"CREATE UNIQUE INDEX "User_email_key" ON app."User" USING btree (email)"#, r#"app."User""#).as_deref(), Some("btree (email)"));
        assert_eq!(index_body(r#"CREATE INDEX i ON ONLY app.t USING hash (x) WHERE (x > 1)"#, "app.t").as_deref(), Some("hash (x) WHERE (x > 1)"));
        assert_eq!(index_body("CREATE INDEX i ON other.t USING hash (x)", "app.t"), None);
    }

    #[test]
    fn ddl_statements_are_attached_to_their_objects() {
        let mut db = Database {
            enums: vec![EnumType { name: "Role".into(), values: vec!["A".into()], ..EnumType::default() }],
            tables: vec![Table {
                name: "User".into(),
                columns: vec![Column { name: "role".into(), ty: "\"Role\"".into(), ..Column::default() }],
                indexes: vec![Index { name: "User_role_idx".into(), unique: false, definition: "btree (role)".into(), columns: vec!["role".into()], sql: None }],
                ..Table::default()
            }],
        };
        db.attach_sql(&[
            "CREATE TYPE \"Role\" AS ENUM ('A')".into(),
            "CREATE TABLE \"User\" (\n    \"role\" \"Role\" NOT NULL DEFAULT 'A',\n    CONSTRAINT \"User_pkey\" PRIMARY KEY (\"role\")\n)".into(),
            "CREATE INDEX \"User_role_idx\" ON \"User\"(\"role\")".into(),
        ]);
        assert!(db.enums[0].sql.is_some());
        assert_eq!(db.tables[0].columns[0].sql.as_deref(), Some("\"role\" \"Role\" NOT NULL DEFAULT 'A'"));
        assert!(db.tables[0].indexes[0].sql.as_deref().is_some_and(|s| s.starts_with("CREATE INDEX")));
    }
}
