//! The DDL dialect of MySQL and MariaDB (the walk over the models is shared, in `ddl.rs`): what
//! `prisma db push` creates there (InnoDB, utf8mb4, `DATETIME(3)`, `DECIMAL(65,30)`, `LONGBLOB`,
//! `JSON`, `TINYINT(1)` booleans, `VARCHAR(191)` strings, inline `ENUM(...)`s), with the same
//! tenant-matching composite foreign keys as on PostgreSQL and none under
//! `relationMode = "prisma"`. Text columns use `utf8mb4_bin`, so comparisons and ordering are
//! case-sensitive as on PostgreSQL (`mode: "insensitive"` lowers both sides). Scalar lists, which
//! Prisma has only on PostgreSQL, are `JSON` arrays.

use super::{Dialect, Unique};
use crate::schema::{Arity, DefaultValue, Field, Index, Literal, ScalarField, ScalarType, Schema};

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
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

pub(super) struct Mysql;

impl Dialect for Mysql {
    fn quote(&self, name: &str) -> String {
        quote(name)
    }

    fn column(&self, schema: &Schema, _namespace: Option<&str>, f: &Field, s: &ScalarField) -> String {
        let ty = column_type(schema, s, f.is_list());
        let mut column = ty.clone();
        if f.arity == Arity::Required {
            column.push_str(" NOT NULL");
        }
        if matches!(s.default, Some(DefaultValue::Autoincrement)) {
            column.push_str(" AUTO_INCREMENT");
        } else if let Some(d) = default_sql(schema, s, &ty) {
            // MySQL refuses a NULL default on a NOT NULL column when the table is made; without
            // it a row that leaves the column out fails as PostgreSQL's does (no value).
            if !(f.arity == Arity::Required && d.eq_ignore_ascii_case("NULL")) {
                column.push_str(&format!(" DEFAULT {d}"));
            }
        }
        column
    }

    fn id_type(&self, schema: &Schema, _namespace: Option<&str>, s: &ScalarField) -> String {
        column_type(schema, s, false)
    }

    fn primary_key(&self, _name: &str, cols: &[String]) -> String {
        format!("PRIMARY KEY ({})", self.column_list(cols))
    }

    fn join_table_key(&self, _table: &str) -> String {
        "PRIMARY KEY (`A`, `B`)".into()
    }

    /// Unique keys inside the table: an AUTO_INCREMENT column must be a key when it is made.
    fn unique(&self, _table: &str, name: &str, cols: &[String]) -> Unique {
        Unique::InTable(format!("UNIQUE KEY {} ({})", quote(name), self.column_list(cols)))
    }

    fn index(&self, table: &str, name: &str, i: &Index, cols: &[String]) -> String {
        let kind = if i.kind.as_deref() == Some("Fulltext") { "FULLTEXT INDEX" } else { "INDEX" };
        format!("CREATE {kind} {} ON {table}({})", quote(name), self.column_list(cols))
    }

    fn table_options(&self) -> &'static str {
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    }

    /// InnoDB has no `SET NULL (columns)`: a SET NULL / SET DEFAULT relation keeps only its plain
    /// key (the scope pass still refuses links across tenants).
    fn tenant_set_columns(&self, _action: &str, _fk_cols: &[String]) -> Option<String> {
        None
    }
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
