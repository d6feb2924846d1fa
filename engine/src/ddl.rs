//! DDL: the SQL that creates a schema's tables, keys, indexes, foreign keys and enum types on
//! PostgreSQL — what `prisma db push` runs on an empty database, in the same order and with
//! Prisma's names (`Model_pkey`, `Model_a_b_key`, `Model_a_idx`, `Model_a_fkey`, `_AToB`), plus
//! one thing Prisma does not make: every foreign key between two tenant-scoped tables gets a
//! tenant-matching twin `(tenantId, fk…) -> (tenantId, id…)`, so a row can only refer to a row of
//! its own tenant and the database's cascades cannot cross tenants — and the row-level security
//! that can be added on top ([`rls_statements`]). [`tenant_link_checks`] finds the links between
//! tenants that a database made without those keys already holds. The walk over the models is
//! shared with MySQL ([`mysql`]); what differs is asked of a `Dialect`.

use crate::schema::{
    Arity, DefaultValue, Field, FieldId, Index, Literal, Model, ReferentialAction, RelationLink, RelationMode, ScalarField, ScalarType, Schema,
    SortOrder,
};

pub mod mysql;

/// What the DDL of PostgreSQL and of MySQL differ in. [`create_statements_with`] and the
/// tenant-matching keys walk the models once and ask the schema's dialect for these.
trait Dialect {
    /// An identifier, quoted.
    fn quote(&self, name: &str) -> String;

    /// Statements that come before the tables (PostgreSQL's enum types).
    fn types(&self, _schema: &Schema, _namespace: Option<&str>) -> Vec<String> {
        Vec::new()
    }

    /// A column's definition after its name: type, `NOT NULL`, default.
    fn column(&self, schema: &Schema, namespace: Option<&str>, f: &Field, s: &ScalarField) -> String;

    /// The type of a column that refers to the id `s` (a join table's `A` and `B`).
    fn id_type(&self, schema: &Schema, namespace: Option<&str>, s: &ScalarField) -> String;

    /// A model's primary key clause in `CREATE TABLE`.
    fn primary_key(&self, name: &str, cols: &[String]) -> String;

    /// An implicit many-to-many table's primary key clause on `("A", "B")`.
    fn join_table_key(&self, table: &str) -> String;

    /// A unique constraint of `table`.
    fn unique(&self, table: &str, name: &str, cols: &[String]) -> Unique;

    /// The statement that creates index `i` of `table`.
    fn index(&self, table: &str, name: &str, i: &Index, cols: &[String]) -> String;

    /// What follows the closing parenthesis of `CREATE TABLE`.
    fn table_options(&self) -> &'static str {
        ""
    }

    /// The `ON DELETE` of a tenant-matching key whose relation sets its foreign key columns
    /// `fk_cols` (`action` is `SET NULL` or `SET DEFAULT`), or `None` when the dialect cannot
    /// leave the tenant column alone and the relation keeps only its plain key.
    fn tenant_set_columns(&self, action: &str, fk_cols: &[String]) -> Option<String>;

    /// A table name, in `namespace` when there is one.
    fn qualified(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) => format!("{}.{}", self.quote(ns), self.quote(name)),
            None => self.quote(name),
        }
    }

    /// Column names, quoted, comma-separated.
    fn column_list(&self, cols: &[String]) -> String {
        cols.iter().map(|c| self.quote(c)).collect::<Vec<_>>().join(", ")
    }
}

/// Where a unique constraint goes: a clause inside `CREATE TABLE`, or a statement with the indexes.
enum Unique {
    InTable(String),
    Index(String),
}

fn dialect(schema: &Schema) -> &'static dyn Dialect {
    match schema.provider() {
        crate::schema::Provider::Mysql => &mysql::Mysql,
        _ => &Postgres,
    }
}

struct Postgres;

impl Dialect for Postgres {
    fn quote(&self, name: &str) -> String {
        quote(name)
    }

    fn types(&self, schema: &Schema, namespace: Option<&str>) -> Vec<String> {
        schema
            .enums
            .iter()
            .map(|e| {
                let values = e.values.iter().map(|v| string_literal(&v.db_name)).collect::<Vec<_>>().join(", ");
                format!("CREATE TYPE {} AS ENUM ({values})", self.qualified(namespace, &e.db_name))
            })
            .collect()
    }

    fn column(&self, schema: &Schema, namespace: Option<&str>, f: &Field, s: &ScalarField) -> String {
        let mut column = column_type(schema, namespace, s, f.is_list());
        if f.arity == Arity::Required {
            column.push_str(" NOT NULL");
        }
        if let Some(d) = default_sql(schema, namespace, s, f.is_list()) {
            column.push_str(&format!(" DEFAULT {d}"));
        }
        column
    }

    /// A serial id is referenced as a plain integer.
    fn id_type(&self, schema: &Schema, namespace: Option<&str>, s: &ScalarField) -> String {
        let mut plain = s.clone();
        plain.default = None;
        column_type(schema, namespace, &plain, false)
    }

    fn primary_key(&self, name: &str, cols: &[String]) -> String {
        format!("CONSTRAINT {} PRIMARY KEY ({})", quote(name), self.column_list(cols))
    }

    fn join_table_key(&self, table: &str) -> String {
        format!("CONSTRAINT {} PRIMARY KEY (\"A\",\"B\")", quote(&format!("{table}_AB_pkey")))
    }

    fn unique(&self, table: &str, name: &str, cols: &[String]) -> Unique {
        Unique::Index(format!("CREATE UNIQUE INDEX {} ON {table}({})", quote(name), self.column_list(cols)))
    }

    fn index(&self, table: &str, name: &str, i: &Index, cols: &[String]) -> String {
        let using = match i.kind.as_deref() {
            Some(k) if !k.eq_ignore_ascii_case("BTree") && k != "Fulltext" => format!(" USING {}", k.to_uppercase()),
            _ => String::new(),
        };
        let parts: Vec<String> = i
            .fields
            .iter()
            .zip(cols)
            .map(|(f, c)| {
                let mut part = quote(c);
                if let Some(ops) = &f.ops {
                    part.push(' ');
                    part.push_str(ops);
                }
                if f.sort == Some(SortOrder::Desc) {
                    part.push_str(" DESC");
                }
                part
            })
            .collect();
        format!("CREATE INDEX {} ON {table}{using}({})", quote(name), parts.join(", "))
    }

    /// `SET NULL (fk…)` leaves the tenant column alone.
    fn tenant_set_columns(&self, action: &str, fk_cols: &[String]) -> Option<String> {
        Some(format!("{action} ({})", self.column_list(fk_cols)))
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn columns(m: &Model, fields: &[FieldId]) -> Vec<String> {
    fields.iter().map(|f| m.field(*f).as_scalar().map_or_else(String::new, |s| s.db_name.clone())).collect()
}

/// The column type of a scalar field.
pub fn column_type(schema: &Schema, namespace: Option<&str>, s: &ScalarField, list: bool) -> String {
    let autoincrement = matches!(s.default, Some(DefaultValue::Autoincrement));
    let native = s.native_type.as_ref();
    let args = native.map(|n| n.args.join(",")).unwrap_or_default();
    let with_args = |base: &str| if args.is_empty() { base.to_owned() } else { format!("{base}({args})") };
    let base = match (&s.ty, native.map(|n| n.name.as_str())) {
        (ScalarType::Unsupported(t), _) => t.clone(),
        (ScalarType::Int, Some("SmallInt")) if autoincrement => "SMALLSERIAL".into(),
        (ScalarType::Int, _) if autoincrement => "SERIAL".into(),
        (ScalarType::BigInt, _) if autoincrement => "BIGSERIAL".into(),
        (ScalarType::Enum(id), _) => Postgres.qualified(namespace, &schema.enum_(*id).db_name),
        (_, Some(name)) => match name {
            "Uuid" => "UUID".into(),
            "Text" => "TEXT".into(),
            "VarChar" => with_args("VARCHAR"),
            "Char" => with_args("CHAR"),
            "Timestamptz" => with_args("TIMESTAMPTZ"),
            "Timestamp" => with_args("TIMESTAMP"),
            "Date" => "DATE".into(),
            "Time" => with_args("TIME"),
            "Timetz" => with_args("TIMETZ"),
            "JsonB" => "JSONB".into(),
            "Json" => "JSON".into(),
            "Integer" => "INTEGER".into(),
            "SmallInt" => "SMALLINT".into(),
            "BigInt" => "BIGINT".into(),
            "DoublePrecision" => "DOUBLE PRECISION".into(),
            "Real" => "REAL".into(),
            "Decimal" => with_args("DECIMAL"),
            "ByteA" => "BYTEA".into(),
            "Boolean" => "BOOLEAN".into(),
            other => with_args(&other.to_uppercase()),
        },
        (ScalarType::String, None) => "TEXT".into(),
        (ScalarType::Int, None) => "INTEGER".into(),
        (ScalarType::BigInt, None) => "BIGINT".into(),
        (ScalarType::Float, None) => "DOUBLE PRECISION".into(),
        (ScalarType::Decimal, None) => "DECIMAL(65,30)".into(),
        (ScalarType::Boolean, None) => "BOOLEAN".into(),
        (ScalarType::DateTime, None) => "TIMESTAMP(3)".into(),
        (ScalarType::Json, None) => "JSONB".into(),
        (ScalarType::Bytes, None) => "BYTEA".into(),
    };
    if list { format!("{base}[]") } else { base }
}

fn literal_sql(schema: &Schema, s: &ScalarField, lit: &Literal) -> String {
    match lit {
        Literal::String(v) => string_literal(v),
        Literal::Number(n) => n.clone(),
        Literal::Boolean(b) => b.to_string(),
        Literal::EnumValue(v) => {
            let db = match &s.ty {
                ScalarType::Enum(id) => schema.enum_(*id).values.iter().find(|x| &x.name == v).map_or(v.clone(), |x| x.db_name.clone()),
                _ => v.clone(),
            };
            string_literal(&db)
        }
        Literal::List(items) => format!("ARRAY[{}]", items.iter().map(|i| literal_sql(schema, s, i)).collect::<Vec<_>>().join(", ")),
    }
}

fn default_sql(schema: &Schema, namespace: Option<&str>, s: &ScalarField, list: bool) -> Option<String> {
    match s.default.as_ref()? {
        DefaultValue::Now => Some("CURRENT_TIMESTAMP".into()),
        DefaultValue::DbGenerated(Some(expr)) => Some(expr.clone()),
        DefaultValue::Literal(lit @ Literal::List(_)) => {
            Some(format!("{}::{}", literal_sql(schema, s, lit), column_type(schema, namespace, s, list)))
        }
        DefaultValue::Literal(lit) => Some(literal_sql(schema, s, lit)),
        _ => None,
    }
}

fn action(a: ReferentialAction) -> &'static str {
    match a {
        ReferentialAction::Cascade => "CASCADE",
        ReferentialAction::Restrict => "RESTRICT",
        ReferentialAction::NoAction => "NO ACTION",
        ReferentialAction::SetNull => "SET NULL",
        ReferentialAction::SetDefault => "SET DEFAULT",
    }
}

/// What [`create_statements_with`] leaves out.
#[derive(Clone, Debug)]
pub struct DdlOptions {
    /// The tenant-matching foreign keys between scoped tables (default on). Off only for data that
    /// already links tenants (see [`tenant_link_checks`]), such as a benchmark's fixed workload.
    pub tenant_keys: bool,
}

impl Default for DdlOptions {
    fn default() -> Self {
        DdlOptions { tenant_keys: true }
    }
}

/// Every statement, in order: enum types, tables, join tables, indexes, foreign keys, with the
/// tenant-matching keys.
pub fn create_statements(schema: &Schema, namespace: Option<&str>) -> Vec<String> {
    create_statements_with(schema, namespace, &DdlOptions::default())
}

/// [`create_statements`] with options.
pub fn create_statements_with(schema: &Schema, namespace: Option<&str>, options: &DdlOptions) -> Vec<String> {
    let d = dialect(schema);
    let fks = schema.relation_mode() == RelationMode::ForeignKeys;
    let types = d.types(schema, namespace);
    let mut tables = Vec::new();
    let mut indexes = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut join_tables: Vec<String> = Vec::new();
    let create_table = |table: &str, lines: &[String]| format!("CREATE TABLE {table} (\n{}\n){}", lines.join(",\n"), d.table_options());
    for m in &schema.models {
        let table = d.qualified(namespace, &m.db_name);
        let mut lines = Vec::new();
        for f in &m.fields {
            let Some(s) = f.as_scalar() else { continue };
            lines.push(format!("    {} {}", d.quote(&s.db_name), d.column(schema, namespace, f, s)));
        }
        if let Some(pk) = &m.primary_key {
            let name = pk.db_name.clone().unwrap_or_else(|| format!("{}_pkey", m.db_name));
            lines.push(format!("    {}", d.primary_key(&name, &columns(m, &pk.fields))));
        }
        for u in &m.uniques {
            let cols = columns(m, &u.fields);
            let name = u.db_name.clone().unwrap_or_else(|| format!("{}_{}_key", m.db_name, cols.join("_")));
            match d.unique(&table, &name, &cols) {
                Unique::InTable(clause) => lines.push(format!("    {clause}")),
                Unique::Index(statement) => indexes.push(statement),
            }
        }
        tables.push(create_table(&table, &lines));
        for i in &m.indexes {
            let fields: Vec<FieldId> = i.fields.iter().map(|f| f.field).collect();
            let cols = columns(m, &fields);
            let name = i.db_name.clone().unwrap_or_else(|| format!("{}_{}_idx", m.db_name, cols.join("_")));
            indexes.push(d.index(&table, &name, i, &cols));
        }
        for (_, _, r) in m.relation_fields() {
            match &r.link {
                RelationLink::ForeignKey { fields, references } if fks => {
                    let target = schema.model(r.related);
                    let cols = columns(m, fields);
                    let name = r.fk_name.clone().unwrap_or_else(|| format!("{}_{}_fkey", m.db_name, cols.join("_")));
                    foreign_keys.push(format!(
                        "ALTER TABLE {table} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}({}) ON DELETE {} ON UPDATE {}",
                        d.quote(&name),
                        d.column_list(&cols),
                        d.qualified(namespace, &target.db_name),
                        d.column_list(&columns(target, references)),
                        action(r.on_delete),
                        action(r.on_update)
                    ));
                }
                RelationLink::JoinTable { table: jt, column, reference, other_reference } if !join_tables.contains(jt) => {
                    join_tables.push(jt.clone());
                    let other = schema.model(r.related);
                    let (a_model, a_ref, b_model, b_ref) = match column {
                        crate::schema::JoinColumn::A => (m, *reference, other, *other_reference),
                        crate::schema::JoinColumn::B => (other, *other_reference, m, *reference),
                    };
                    let id_type = |model: &Model, id: FieldId| model.field(id).as_scalar().map(|s| d.id_type(schema, namespace, s)).unwrap_or_default();
                    let jq = d.qualified(namespace, jt);
                    let (a, b) = (d.quote("A"), d.quote("B"));
                    let lines = [
                        format!("    {a} {} NOT NULL", id_type(a_model, a_ref)),
                        format!("    {b} {} NOT NULL", id_type(b_model, b_ref)),
                        format!("    {}", d.join_table_key(jt)),
                    ];
                    tables.push(create_table(&jq, &lines));
                    indexes.push(format!("CREATE INDEX {} ON {jq}({b})", d.quote(&format!("{jt}_B_index"))));
                    if fks {
                        for (col, model, reference) in [("A", a_model, a_ref), ("B", b_model, b_ref)] {
                            foreign_keys.push(format!(
                                "ALTER TABLE {jq} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}({}) ON DELETE CASCADE ON UPDATE CASCADE",
                                d.quote(&format!("{jt}_{col}_fkey")),
                                d.quote(col),
                                d.qualified(namespace, &model.db_name),
                                d.column_list(&columns(model, &[reference]))
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let (uniques, keys) = if options.tenant_keys { tenant_key_statements(d, schema, namespace, false) } else { (vec![], vec![]) };
    types.into_iter().chain(tables).chain(indexes).chain(uniques).chain(foreign_keys).chain(keys).collect()
}

/// The tenant-matching foreign keys (see [`crate::scope::rls::tenant_keys`]): the unique indexes
/// their targets need, then the keys. `rerunnable` makes them statements that can run again on a
/// database that has them (`IF NOT EXISTS`, `DROP CONSTRAINT IF EXISTS` first; PostgreSQL only).
fn tenant_key_statements(d: &dyn Dialect, schema: &Schema, namespace: Option<&str>, rerunnable: bool) -> (Vec<String>, Vec<String>) {
    let mut uniques = Vec::new();
    let mut keys = Vec::new();
    for k in crate::scope::rls::tenant_keys(schema) {
        let (m, target) = (schema.model(k.model), schema.model(k.target));
        let Some(r) = m.field(k.relation).as_relation() else { continue };
        let cols = columns(m, &k.columns);
        let fk_cols = &cols[1..];
        // Both keys fire on the same changes; the actions are chosen so the outcome does not
        // depend on which fires first. SET NULL / SET DEFAULT leave the tenant column alone.
        let on_delete = match r.on_delete {
            a @ (ReferentialAction::SetNull | ReferentialAction::SetDefault) => match d.tenant_set_columns(action(a), fk_cols) {
                Some(on_delete) => on_delete,
                None => continue,
            },
            a => action(a).to_owned(),
        };
        let on_update = match r.on_update {
            ReferentialAction::SetNull | ReferentialAction::SetDefault => "NO ACTION",
            a => action(a),
        };
        let table = d.qualified(namespace, &m.db_name);
        let target_table = d.qualified(namespace, &target.db_name);
        let references = columns(target, &k.references);
        let mut wanted: Vec<&String> = references.iter().collect();
        wanted.sort();
        let covered = target.primary_key.iter().map(|pk| &pk.fields).chain(target.uniques.iter().map(|u| &u.fields)).any(|fields| {
            let mut have = columns(target, fields);
            have.sort();
            have.iter().collect::<Vec<_>>() == wanted
        });
        let unique = format!(
            "CREATE UNIQUE INDEX {}{} ON {target_table}({})",
            if rerunnable { "IF NOT EXISTS " } else { "" },
            d.quote(&format!("{}_{}_key", target.db_name, references.join("_"))),
            d.column_list(&references)
        );
        if !covered && !uniques.contains(&unique) {
            uniques.push(unique);
        }
        let name = d.quote(&tenant_fk_name(m, &k.columns[1..]));
        if rerunnable {
            keys.push(format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"));
        }
        keys.push(format!(
            "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({}) REFERENCES {target_table}({}) ON DELETE {on_delete} ON UPDATE {on_update}",
            d.column_list(&cols),
            d.column_list(&references)
        ));
    }
    (uniques, keys)
}

/// Queries that count the links between tenants a database holds — rows referring to a row of
/// another tenant, which the tenant-matching keys of [`create_statements`] make impossible but a
/// database created without them (by another tool, or before tenancy was declared) may have.
/// Each is `(description, SQL)`; the SQL returns one row with `n`, the number of such links. Run
/// them without a tenant context; they read only keys and tenant columns and return counts.
pub fn tenant_link_checks(schema: &Schema, namespace: Option<&str>) -> Vec<(String, String)> {
    use crate::schema::ModelTenancy;
    let tenant_column = |id: crate::schema::ModelId| match schema.tenancy.of(id) {
        ModelTenancy::Scoped { field, .. } => schema.model(id).field(*field).as_scalar().map(|s| s.db_name.clone()),
        _ => None,
    };
    // In the schema's dialect: MySQL reads a double-quoted name as a string.
    let d = dialect(schema);
    let quote = |name: &str| d.quote(name);
    let qualified = |namespace: Option<&str>, name: &str| d.qualified(namespace, name);
    let [c, t, j, a, b] = ["c", "t", "j", "a", "b"].map(quote);
    let mut checks = Vec::new();
    let mut join_tables: Vec<&str> = Vec::new();
    for id in schema.model_ids() {
        let m = schema.model(id);
        let Some(own) = tenant_column(id) else { continue };
        for (_, f, r) in m.relation_fields() {
            let Some(theirs) = tenant_column(r.related) else { continue };
            let target = schema.model(r.related);
            match &r.link {
                RelationLink::ForeignKey { fields, references } => {
                    let on = columns(m, fields)
                        .iter()
                        .zip(columns(target, references))
                        .map(|(from, to)| format!("{t}.{} = {c}.{}", quote(&to), quote(from)))
                        .collect::<Vec<_>>()
                        .join(" AND ");
                    checks.push((
                        format!("{}.{} -> {}", m.name, f.name, target.name),
                        format!(
                            "SELECT count(*) AS n FROM {} AS {c} JOIN {} AS {t} ON {on} WHERE {c}.{} IS NOT NULL AND {t}.{} IS NOT NULL AND {c}.{} <> {t}.{}",
                            qualified(namespace, &m.db_name),
                            qualified(namespace, &target.db_name),
                            quote(&own),
                            quote(&theirs),
                            quote(&own),
                            quote(&theirs)
                        ),
                    ));
                }
                RelationLink::JoinTable { table, column, reference, other_reference } if !join_tables.contains(&table.as_str()) => {
                    join_tables.push(table);
                    let (mine, other) = (column.name(), column.other().name());
                    checks.push((
                        format!("{} <-> {} ({table})", m.name, target.name),
                        format!(
                            "SELECT count(*) AS n FROM {} AS {j} JOIN {} AS {a} ON {a}.{} = {j}.{} JOIN {} AS {b} ON {b}.{} = {j}.{} WHERE {a}.{} IS NOT NULL AND {b}.{} IS NOT NULL AND {a}.{} <> {b}.{}",
                            qualified(namespace, table),
                            qualified(namespace, &m.db_name),
                            quote(&columns(m, &[*reference])[0]),
                            quote(mine),
                            qualified(namespace, &target.db_name),
                            quote(&columns(target, &[*other_reference])[0]),
                            quote(other),
                            quote(&own),
                            quote(&theirs),
                            quote(&own),
                            quote(&theirs)
                        ),
                    ));
                }
                _ => {}
            }
        }
    }
    checks
}

/// Row-level security for a schema, PostgreSQL's second wall behind the scope pass (run after
/// [`create_statements`], as a role that owns the tables or a superuser). For every tenant-scoped
/// table and every implicit many-to-many table joining one: `ENABLE` and `FORCE ROW LEVEL SECURITY`
/// (the owner is held to the policies too) and SELECT / INSERT / UPDATE / DELETE policies on the
/// transaction-local `app.current_tenant_id` setting (see [`crate::scope::rls`] for what they
/// allow). Because foreign-key checks bypass RLS, every foreign key between two scoped tables gets
/// a composite twin `(tenantId, fk…) -> (tenantId, id…)` backed by a unique index on the target,
/// so a row can only refer to a row of its own tenant; the original key keeps its referential
/// actions. The statements can be run again on a database that already has them.
pub fn rls_statements(schema: &Schema, namespace: Option<&str>) -> Vec<String> {
    use crate::scope::rls;
    let mut policies = Vec::new();
    let mut secure = |table: &str, prefix: &str, p: rls::Policies| {
        policies.push(format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"));
        policies.push(format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"));
        for (command, clauses) in [
            ("SELECT", format!("USING ({})", p.read)),
            ("INSERT", format!("WITH CHECK ({})", p.write)),
            ("UPDATE", format!("USING ({}) WITH CHECK ({})", p.write, p.write)),
            ("DELETE", format!("USING ({})", p.write)),
        ] {
            let name = quote(&format!("{prefix}_tenant_{}", command.to_lowercase()));
            policies.push(format!("DROP POLICY IF EXISTS {name} ON {table}"));
            policies.push(format!("CREATE POLICY {name} ON {table} FOR {command} {clauses}"));
        }
    };
    let mut join_tables: Vec<&str> = Vec::new();
    for id in schema.model_ids() {
        let m = schema.model(id);
        let table = Postgres.qualified(namespace, &m.db_name);
        let cast = rls::tenant_field(schema, id)
            .and_then(|f| m.field(f).as_scalar())
            .map(|s| Postgres.id_type(schema, namespace, s));
        if let Some(p) = cast.and_then(|cast| rls::model_policies(schema, id, &cast)) {
            secure(&table, &m.db_name, p);
        }
        for (_, _, r) in m.relation_fields() {
            let RelationLink::JoinTable { table: jt, column, reference, other_reference } = &r.link else { continue };
            if join_tables.contains(&jt.as_str()) {
                continue;
            }
            join_tables.push(jt);
            let other_table = Postgres.qualified(namespace, &schema.model(r.related).db_name);
            let this = rls::JoinSide { join_column: column.name(), model: id, reference: *reference, table: &table };
            let that = rls::JoinSide { join_column: column.other().name(), model: r.related, reference: *other_reference, table: &other_table };
            let mut sides = [this, that];
            sides.sort_by_key(|s| s.join_column);
            if let Some(p) = rls::join_table_policies(schema, jt, &sides) {
                secure(&Postgres.qualified(namespace, jt), jt, p);
            }
        }
    }
    let (uniques, keys) = tenant_key_statements(&Postgres, schema, namespace, true);
    uniques.into_iter().chain(keys).chain(policies).collect()
}

/// The name of the composite foreign key [`rls_statements`] adds next to the relation whose
/// foreign key fields are `fields`: `Post_authorId_tenant_fkey`.
pub fn tenant_fk_name(m: &Model, fields: &[FieldId]) -> String {
    format!("{}_{}_tenant_fkey", m.db_name, columns(m, fields).join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ").trim_end_matches(';').to_owned()
    }

    #[test]
    fn bench_schema_matches_the_reference_ddl() {
        let schema = Schema::parse(include_str!("../../tests/fixtures/schemas/bench.prisma")).unwrap();
        let all: Vec<String> = create_statements(&schema, None).iter().map(|s| normalize(s)).collect();
        // Prisma's DDL, plus the tenant-matching twin of every key between two scoped tables and
        // the unique indexes they refer to.
        let (tenant, ours): (Vec<String>, Vec<String>) = all.into_iter().partition(|s| s.contains("_tenant_fkey") || s.contains("_tenantId_id_key"));
        assert_eq!(
            tenant,
            [
                r#"CREATE UNIQUE INDEX "User_tenantId_id_key" ON "User"("tenantId", "id")"#,
                r#"CREATE UNIQUE INDEX "Post_tenantId_id_key" ON "Post"("tenantId", "id")"#,
                r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_tenant_fkey" FOREIGN KEY ("tenantId", "authorId") REFERENCES "User"("tenantId", "id") ON DELETE RESTRICT ON UPDATE CASCADE"#,
                r#"ALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_tenant_fkey" FOREIGN KEY ("tenantId", "postId") REFERENCES "Post"("tenantId", "id") ON DELETE RESTRICT ON UPDATE CASCADE"#,
                r#"ALTER TABLE "Comment" ADD CONSTRAINT "Comment_authorId_tenant_fkey" FOREIGN KEY ("tenantId", "authorId") REFERENCES "User"("tenantId", "id") ON DELETE RESTRICT ON UPDATE CASCADE"#,
            ]
        );
        let reference = include_str!("../../tests/fixtures/schemas/bench.sql");
        let mut expected: Vec<String> = reference
            .split(';')
            .map(normalize)
            .filter(|s| !s.is_empty() && !s.starts_with("--") && !s.starts_with("DROP"))
            .map(|s| s.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join(" "))
            .map(|s| normalize(&s))
            .filter(|s| !s.is_empty())
            .collect();
        let mut sorted_ours = ours.clone();
        sorted_ours.sort();
        expected.sort();
        assert_eq!(sorted_ours, expected);
    }

    #[test]
    fn rls_covers_every_scoped_table_and_scoped_foreign_key() {
        let schema = Schema::parse(include_str!("../../tests/fixtures/rls/schema.prisma")).unwrap();
        let statements = rls_statements(&schema, Some("app"));
        // Tenant, User, Category, Tag, Post and the _PostToTag join table: ENABLE, FORCE and four
        // policies (each dropped first so the statements can run again).
        for table in ["Tenant", "User", "Category", "Tag", "Post", "_PostToTag"] {
            let on = |s: &&String| s.contains(&format!(" ON \"app\".\"{table}\" ")) || s.starts_with(&format!("ALTER TABLE \"app\".\"{table}\" "));
            assert_eq!(statements.iter().filter(|s| s.starts_with("CREATE POLICY") && on(s)).count(), 4, "{table}");
            assert!(statements.iter().filter(on).any(|s| s.ends_with("FORCE ROW LEVEL SECURITY")), "{table}");
        }
        // Post -> User twice; Post -> Category is not extended (shared rows have no tenant to
        // match) and neither are the relations to the tenant model.
        let keys: Vec<&String> = statements.iter().filter(|s| s.contains("ADD CONSTRAINT")).collect();
        assert_eq!(keys.len(), 2, "{keys:#?}");
        assert!(keys[0].contains(r#"FOREIGN KEY ("tenantId", "authorId") REFERENCES "app"."User"("tenantId", "id") ON DELETE CASCADE"#));
        assert!(keys[1].contains(r#"ON DELETE SET NULL ("editorId") ON UPDATE CASCADE"#));
        let uniques: Vec<&String> = statements.iter().filter(|s| s.starts_with("CREATE UNIQUE INDEX")).collect();
        assert_eq!(uniques, [r#"CREATE UNIQUE INDEX IF NOT EXISTS "User_tenantId_id_key" ON "app"."User"("tenantId", "id")"#]);
        // The tenant is read from the transaction-local setting, never from the statement text
        // (the join table's policies defer to the policies of the tables it joins).
        let policies = statements.iter().filter(|s| s.starts_with("CREATE POLICY"));
        assert!(policies.filter(|s| !s.contains("ON \"app\".\"_PostToTag\"")).all(|s| s.contains("current_setting('app.current_tenant_id', true)")));
        // A schema without tenancy gets nothing.
        let plain = Schema::parse("datasource db { provider = \"postgresql\" }\nmodel A { id Int @id }").unwrap();
        assert!(rls_statements(&plain, None).is_empty());
    }
}
