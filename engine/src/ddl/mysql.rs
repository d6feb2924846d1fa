//! DDL for MySQL and MariaDB: what `prisma db push` creates there (InnoDB, utf8mb4, `DATETIME(3)`,
//! `DECIMAL(65,30)`, `LONGBLOB`, `JSON`, `TINYINT(1)` booleans, `VARCHAR(191)` strings, inline
//! `ENUM(...)`s), with the same tenant-matching composite foreign keys as on PostgreSQL and none
//! under `relationMode = "prisma"`. Text columns use `utf8mb4_bin`, so comparisons and ordering
//! are case-sensitive as on PostgreSQL (`mode: "insensitive"` lowers both sides). Scalar lists,
//! which Prisma has only on PostgreSQL, are `JSON` arrays.

use super::{columns, tenant_fk_name, DdlOptions};
use crate::schema::{Arity, DefaultValue, FieldId, Literal, ReferentialAction, RelationLink, RelationMode, ScalarField, ScalarType, Schema};

pub(super) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn qualified(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{}.{}", quote(ns), quote(name)),
        None => quote(name),
    }
}

fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn column_list(cols: &[String]) -> String {
    cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
}

/// The MySQL column type of a scalar field (PostgreSQL native type names map to their nearest
/// MySQL type, so one schema can be pushed to both).
pub fn column_type(schema: &Schema, s: &ScalarField, list: bool) -> String {
    if list {
        return "JSON".into();
    }
    let native = s.native_type.as_ref();
    let args = native.map(|n| n.args.join(",")).unwrap_or_default();
    let with_args = |base: &str| if args.is_empty() { base.to_owned() } else { format!("{base}({args})") };
    match (&s.ty, native.map(|n| n.name.as_str())) {
        (ScalarType::Unsupported(t), _) => t.clone(),
        (ScalarType::Enum(id), _) => {
            let values = schema.enum_(*id).values.iter().map(|v| string_literal(&v.db_name)).collect::<Vec<_>>().join(", ");
            format!("ENUM({values})")
        }
        (_, Some(name)) => match name {
            "Uuid" => "CHAR(36)".into(),
            "Text" => "TEXT".into(),
            "VarChar" => with_args("VARCHAR"),
            "Char" => with_args("CHAR"),
            "Timestamptz" | "Timestamp" | "DateTime" => with_args("DATETIME"),
            "Date" => "DATE".into(),
            "Time" | "Timetz" => with_args("TIME"),
            "JsonB" | "Json" => "JSON".into(),
            "Integer" | "Int" => "INT".into(),
            "SmallInt" => "SMALLINT".into(),
            "BigInt" => "BIGINT".into(),
            "DoublePrecision" | "Double" => "DOUBLE".into(),
            "Real" | "Float" => "FLOAT".into(),
            "Decimal" => with_args("DECIMAL"),
            "ByteA" | "LongBlob" => "LONGBLOB".into(),
            "Boolean" => "TINYINT(1)".into(),
            other => with_args(&other.to_uppercase()),
        },
        (ScalarType::String, None) => "VARCHAR(191)".into(),
        (ScalarType::Int, None) => "INT".into(),
        (ScalarType::BigInt, None) => "BIGINT".into(),
        (ScalarType::Float, None) => "DOUBLE".into(),
        (ScalarType::Decimal, None) => "DECIMAL(65,30)".into(),
        (ScalarType::Boolean, None) => "TINYINT(1)".into(),
        (ScalarType::DateTime, None) => "DATETIME(3)".into(),
        (ScalarType::Json, None) => "JSON".into(),
        (ScalarType::Bytes, None) => "LONGBLOB".into(),
    }
}

fn literal_sql(schema: &Schema, s: &ScalarField, lit: &Literal) -> String {
    match lit {
        Literal::String(v) => string_literal(v),
        Literal::Number(n) => n.clone(),
        Literal::Boolean(b) => if *b { "1" } else { "0" }.into(),
        Literal::EnumValue(v) => {
            let db = match &s.ty {
                ScalarType::Enum(id) => schema.enum_(*id).values.iter().find(|x| &x.name == v).map_or(v.clone(), |x| x.db_name.clone()),
                _ => v.clone(),
            };
            string_literal(&db)
        }
        Literal::List(items) => format!("JSON_ARRAY({})", items.iter().map(|i| literal_sql(schema, s, i)).collect::<Vec<_>>().join(", ")),
    }
}

fn default_sql(schema: &Schema, s: &ScalarField, ty: &str) -> Option<String> {
    // TEXT, BLOB and JSON columns take a default only as an expression in parentheses (MySQL
    // 8.0.13+, MariaDB 10.2+).
    let expression = ty == "JSON" || ty.ends_with("TEXT") || ty.ends_with("BLOB");
    match s.default.as_ref()? {
        DefaultValue::Now => Some(if ty.starts_with("DATETIME(") { format!("CURRENT_TIMESTAMP{}", &ty["DATETIME".len()..]) } else { "CURRENT_TIMESTAMP".into() }),
        DefaultValue::DbGenerated(Some(expr)) => Some(expr.clone()),
        DefaultValue::Literal(lit) => {
            let v = literal_sql(schema, s, lit);
            Some(if expression { format!("({v})") } else { v })
        }
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

const TABLE_OPTIONS: &str = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

/// Every statement, in order: tables, join tables, indexes, foreign keys, tenant-matching keys.
pub fn create_statements(schema: &Schema, namespace: Option<&str>, options: &DdlOptions) -> Vec<String> {
    let mut tables = Vec::new();
    let mut indexes = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut join_tables: Vec<String> = Vec::new();
    let fks = schema.relation_mode() == RelationMode::ForeignKeys;
    for m in &schema.models {
        let table = qualified(namespace, &m.db_name);
        let mut lines = Vec::new();
        for f in &m.fields {
            let Some(s) = f.as_scalar() else { continue };
            let ty = column_type(schema, s, f.is_list());
            let mut line = format!("    {} {ty}", quote(&s.db_name));
            if f.arity == Arity::Required {
                line.push_str(" NOT NULL");
            }
            if matches!(s.default, Some(DefaultValue::Autoincrement)) {
                line.push_str(" AUTO_INCREMENT");
            } else if let Some(d) = default_sql(schema, s, &ty) {
                // MySQL refuses a NULL default on a NOT NULL column when the table is made; without
                // it a row that leaves the column out fails as PostgreSQL's does (no value).
                if !(f.arity == Arity::Required && d.eq_ignore_ascii_case("NULL")) {
                    line.push_str(&format!(" DEFAULT {d}"));
                }
            }
            lines.push(line);
        }
        if let Some(pk) = &m.primary_key {
            lines.push(format!("    PRIMARY KEY ({})", column_list(&columns(m, &pk.fields))));
        }
        // Unique keys inside the table: an AUTO_INCREMENT column must be a key when it is made.
        for u in &m.uniques {
            let cols = columns(m, &u.fields);
            let name = u.db_name.clone().unwrap_or_else(|| format!("{}_{}_key", m.db_name, cols.join("_")));
            lines.push(format!("    UNIQUE KEY {} ({})", quote(&name), column_list(&cols)));
        }
        tables.push(format!("CREATE TABLE {table} (\n{}\n) {TABLE_OPTIONS}", lines.join(",\n")));
        for i in &m.indexes {
            let fields: Vec<FieldId> = i.fields.iter().map(|f| f.field).collect();
            let cols = columns(m, &fields);
            let name = i.db_name.clone().unwrap_or_else(|| format!("{}_{}_idx", m.db_name, cols.join("_")));
            let kind = if i.kind.as_deref() == Some("Fulltext") { "FULLTEXT INDEX" } else { "INDEX" };
            indexes.push(format!("CREATE {kind} {} ON {table}({})", quote(&name), column_list(&cols)));
        }
        for (_, _, r) in m.relation_fields() {
            match &r.link {
                RelationLink::ForeignKey { fields, references } if fks => {
                    let target = schema.model(r.related);
                    let cols = columns(m, fields);
                    let name = r.fk_name.clone().unwrap_or_else(|| format!("{}_{}_fkey", m.db_name, cols.join("_")));
                    foreign_keys.push(format!(
                        "ALTER TABLE {table} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}({}) ON DELETE {} ON UPDATE {}",
                        quote(&name),
                        column_list(&cols),
                        qualified(namespace, &target.db_name),
                        column_list(&columns(target, references)),
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
                    let a_ty = a_model.field(a_ref).as_scalar().map(|s| column_type(schema, s, false)).unwrap_or_default();
                    let b_ty = b_model.field(b_ref).as_scalar().map(|s| column_type(schema, s, false)).unwrap_or_default();
                    let jq = qualified(namespace, jt);
                    tables.push(format!("CREATE TABLE {jq} (\n    `A` {a_ty} NOT NULL,\n    `B` {b_ty} NOT NULL,\n    PRIMARY KEY (`A`, `B`)\n) {TABLE_OPTIONS}"));
                    indexes.push(format!("CREATE INDEX {} ON {jq}(`B`)", quote(&format!("{jt}_B_index"))));
                    if fks {
                        for (col, model, reference) in [("A", a_model, a_ref), ("B", b_model, b_ref)] {
                            foreign_keys.push(format!(
                                "ALTER TABLE {jq} ADD CONSTRAINT {} FOREIGN KEY (`{col}`) REFERENCES {}({}) ON DELETE CASCADE ON UPDATE CASCADE",
                                quote(&format!("{jt}_{col}_fkey")),
                                qualified(namespace, &model.db_name),
                                column_list(&columns(model, &[reference]))
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut uniques = Vec::new();
    let mut keys = Vec::new();
    if options.tenant_keys && fks {
        for k in crate::scope::rls::tenant_keys(schema) {
            let (m, target) = (schema.model(k.model), schema.model(k.target));
            let Some(r) = m.field(k.relation).as_relation() else { continue };
            // InnoDB has no `SET NULL (columns)`: a SET NULL / SET DEFAULT relation keeps only its
            // plain key (the scope pass still refuses links across tenants).
            let (on_delete, on_update) = match (r.on_delete, r.on_update) {
                (ReferentialAction::SetNull | ReferentialAction::SetDefault, _) => continue,
                (d, ReferentialAction::SetNull | ReferentialAction::SetDefault) => (action(d), "NO ACTION"),
                (d, u) => (action(d), action(u)),
            };
            let references = columns(target, &k.references);
            let mut wanted: Vec<&String> = references.iter().collect();
            wanted.sort();
            let covered = target.primary_key.iter().map(|pk| &pk.fields).chain(target.uniques.iter().map(|u| &u.fields)).any(|fields| {
                let mut have = columns(target, fields);
                have.sort();
                have.iter().collect::<Vec<_>>() == wanted
            });
            let target_table = qualified(namespace, &target.db_name);
            let unique = format!(
                "CREATE UNIQUE INDEX {} ON {target_table}({})",
                quote(&format!("{}_{}_key", target.db_name, references.join("_"))),
                column_list(&references)
            );
            if !covered && !uniques.contains(&unique) {
                uniques.push(unique);
            }
            keys.push(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {target_table}({}) ON DELETE {on_delete} ON UPDATE {on_update}",
                qualified(namespace, &m.db_name),
                quote(&tenant_fk_name(m, &k.columns[1..])),
                column_list(&columns(m, &k.columns)),
                column_list(&references)
            ));
        }
    }
    tables.into_iter().chain(indexes).chain(uniques).chain(foreign_keys).chain(keys).collect()
}

#[cfg(test)]
mod tests {
    use crate::schema::Schema;

    const SCHEMA: &str = r#"
datasource db {
  provider = "mysql"
}
enum Role {
  ADMIN
  MEMBER
}
model User {
  id       Int      @id @default(autoincrement())
  email    String   @unique
  active   Boolean  @default(true)
  balance  Decimal
  avatar   Bytes?
  settings Json?
  tags     String[]
  role     Role     @default(MEMBER)
  at       DateTime @default(now())
  posts    Post[]
}
model Post {
  id       String @id @default(uuid())
  authorId Int
  author   User   @relation(fields: [authorId], references: [id], onDelete: Cascade)
}
"#;

    #[test]
    fn tables_are_what_prisma_db_push_makes_on_mysql() {
        let schema = Schema::parse(SCHEMA).expect("schema");
        let all = crate::ddl::create_statements(&schema, None).join(";\n");
        for part in [
            "`id` INT NOT NULL AUTO_INCREMENT",
            "`email` VARCHAR(191) NOT NULL",
            "`active` TINYINT(1) NOT NULL DEFAULT 1",
            "`balance` DECIMAL(65,30) NOT NULL",
            "`avatar` LONGBLOB",
            "`settings` JSON",
            "`tags` JSON",
            "`role` ENUM('ADMIN', 'MEMBER') NOT NULL DEFAULT 'MEMBER'",
            "`at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)",
            "UNIQUE KEY `User_email_key` (`email`)",
            "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            "ALTER TABLE `Post` ADD CONSTRAINT `Post_authorId_fkey` FOREIGN KEY (`authorId`) REFERENCES `User`(`id`) ON DELETE CASCADE",
        ] {
            assert!(all.contains(part), "missing {part:?} in\n{all}");
        }
        assert!(!all.contains('"'), "no PostgreSQL quoting:\n{all}");
    }

    #[test]
    fn emulated_relations_get_no_foreign_keys() {
        let text = SCHEMA.replace("provider = \"mysql\"", "provider = \"mysql\"\n  relationMode = \"prisma\"");
        let schema = Schema::parse(&text).expect("schema");
        assert!(crate::ddl::create_statements(&schema, None).iter().all(|s| !s.contains("FOREIGN KEY")));
    }

    /// Tenant, two scoped models with a foreign key and an implicit many-to-many between them.
    const TENANT_SCHEMA: &str = r#"
datasource db {
  provider = "mysql"
}
model Tenant {
  id    Int    @id
  users User[]
  posts Post[]
  tags  Tag[]
}
model User {
  id       Int    @id
  tenantId Int
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  posts    Post[]
}
model Post {
  id       Int    @id
  tenantId Int
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
  tags     Tag[]
}
model Tag {
  id       Int    @id
  tenantId Int
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  posts    Post[]
}
"#;

    #[test]
    fn tenant_link_checks_are_mysql_text() {
        let schema = Schema::parse(TENANT_SCHEMA).expect("schema");
        let checks = crate::ddl::tenant_link_checks(&schema, Some("app"));
        assert!(checks.iter().any(|(r, _)| r == "Post.author -> User"), "{checks:?}");
        assert!(checks.iter().any(|(r, _)| r.contains("<->")), "{checks:?}");
        for (relation, sql) in &checks {
            // MySQL reads "c" as a string, not a name.
            assert!(!sql.contains('"'), "{relation}: PostgreSQL quoting in {sql}");
            assert!(sql.contains("`app`.`"), "{relation}: not qualified with the namespace: {sql}");
            let parsed = sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::MySqlDialect {}, sql);
            assert!(parsed.is_ok(), "{relation}: {parsed:?}: {sql}");
        }
    }

    #[test]
    fn rls_is_refused_on_mysql() {
        let e = crate::Engine::new(SCHEMA, crate::EngineOptions { rls: true, ..Default::default() }).expect_err("no RLS on MySQL");
        assert_eq!(e.code(), crate::error::codes::SCHEMA_UNSUPPORTED);
        assert!(e.message().contains("MySQL has none"), "{}", e.message());
    }
}
