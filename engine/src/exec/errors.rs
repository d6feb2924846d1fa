//! Driver errors -> engine errors with Prisma's codes. Database messages can quote values, so
//! they never become part of a message; the SQLSTATE and the schema names involved go in `meta`.

use super::driver::DriverError;
use crate::error::{Error, codes};
use crate::schema::{FieldKind, Model, RelationLink, Schema};
use serde_json::json;

pub fn map_driver_error(schema: &Schema, e: DriverError) -> Error {
    match e {
        DriverError::Database { sqlstate, message, schema: db_schema, constraint, table, column } => {
            let names = DbNames { schema: db_schema.as_deref(), table: table.as_deref(), column: column.as_deref(), constraint: constraint.as_deref() };
            database_error(schema, &sqlstate, &message, &names)
        }
        DriverError::PoolTimeout { connection_limit, timeout_secs } => {
            let current = match (connection_limit, timeout_secs) {
                (Some(l), Some(t)) => format!(" (Current connection pool timeout: {t}, connection limit: {l})"),
                _ => String::new(),
            };
            let mut e = Error::new(
                codes::POOL_TIMEOUT,
                format!("Timed out fetching a new connection from the connection pool{current}: raise pool_timeout or connection_limit in the URL, or hold connections for less time"),
            );
            if let Some(l) = connection_limit {
                e = e.with_meta("connection_limit", l);
            }
            if let Some(t) = timeout_secs {
                e = e.with_meta("timeout", t);
            }
            e
        }
        DriverError::Connection(m) => Error::new(
            codes::DRIVER,
            format!("Can't reach the database server: {m}. Is PostgreSQL running there and accepting connections? Check the host and port of the URL"),
        )
        .with_meta("kind", "connection"),
        DriverError::TransactionClosed(m) => Error::new(codes::TRANSACTION_CLOSED, format!("Transaction API error: {m}")).with_meta("error", m),
        DriverError::Other(m) => Error::new(codes::DRIVER, m),
    }
}

/// The names PostgreSQL reports with an error (its `schema`, `table`, `column` and `constraint`
/// fields): identifiers, never values.
struct DbNames<'a> {
    schema: Option<&'a str>,
    table: Option<&'a str>,
    column: Option<&'a str>,
    constraint: Option<&'a str>,
}

impl DbNames<'_> {
    /// `{ schema, table, column, constraint }` with the names present.
    fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (k, v) in [("schema", self.schema), ("table", self.table), ("column", self.column), ("constraint", self.constraint)] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        serde_json::Value::Object(m)
    }

    /// ` (table `Post`, column `title`)`, or nothing.
    fn describe(&self) -> String {
        let parts: Vec<String> = [("schema", self.schema), ("table", self.table), ("column", self.column), ("constraint", self.constraint)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k} `{v}`")))
            .collect();
        if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
    }
}

/// SQLSTATEs whose server message names only identifiers (a database, role, schema, relation,
/// column or function signature) and never a value: their message is shown as it is, because it
/// is what says what to fix (`column "nope" does not exist`).
fn message_is_identifiers_only(sqlstate: &str) -> bool {
    matches!(sqlstate, "3D000" | "3F000" | "28000" | "28P01" | "42P01" | "42703" | "42883" | "42501" | "42704" | "42P02" | "53300" | "57P01" | "57P03")
}

/// A one-line hint for the errors a developer meets first.
fn hint(sqlstate: &str) -> Option<&'static str> {
    Some(match sqlstate {
        "3D000" => "Create the database, or fix the database name in the connection URL.",
        "3F000" => "Create the schema (quarry db push), or fix ?schema= in the connection URL.",
        "28000" | "28P01" => "Check the user and password in the connection URL, and that the role may log in from here (pg_hba.conf).",
        "42P01" => "Create the tables (quarry db push or quarry migrate deploy), or check ?schema= in the connection URL.",
        "42703" => "The database is behind the schema (quarry db push or quarry migrate deploy), or raw SQL names a column the table does not have.",
        "42883" => "Raw SQL calls a function or operator with argument types it does not have: add a cast.",
        "42501" => "Grant the connection's role the privilege, or connect as a role that has it.",
        "53300" => "The server has no connection slots left: lower connection_limit, or use a pooler (PgBouncer).",
        "57014" => "The statement was cancelled, often by statement_timeout.",
        "57P01" | "57P03" => "The server is shutting down or starting up: retry.",
        "25P02" => "An earlier statement in this transaction failed; it must be rolled back.",
        _ => return None,
    })
}

/// The name between the first pair of double quotes of a server message (`relation "x" does not
/// exist`), or after `column ` when unquoted (`column t.nope does not exist`).
fn quoted_name(message: &str) -> Option<&str> {
    if let Some(start) = message.find('"') {
        let rest = &message[start + 1..];
        return rest.find('"').map(|end| &rest[..end]);
    }
    message.strip_prefix("column ").and_then(|r| r.split_whitespace().next())
}

/// Prisma names the request's model in `meta.modelName` of the errors a model request raises
/// (not the model whose table raised it: a delete of a `User` that a `Post` still refers to is
/// reported on `User`). Raw SQL and transaction or pool errors name none.
pub fn with_request_model(schema: &Schema, e: Error, request: &serde_json::Value) -> Error {
    if !e.code().starts_with("P2") || matches!(e.code(), codes::POOL_TIMEOUT | codes::TRANSACTION_CLOSED) {
        return e;
    }
    match request.get("model").and_then(serde_json::Value::as_str).and_then(|m| schema.models.iter().find(|x| x.name == m)) {
        Some(m) => e.with_meta("modelName", m.name.clone()),
        None => e,
    }
}

fn database_error(schema: &Schema, sqlstate: &str, db_message: &str, names: &DbNames<'_>) -> Error {
    let (constraint, table, column) = (names.constraint, names.table, names.column);
    let model = table.and_then(|t| schema.models.iter().find(|m| m.db_name == t));
    let e = match sqlstate {
        "23505" => {
            let fields = constraint.and_then(|c| unique_fields(schema, model, c));
            let target = fields.clone().map_or_else(|| json!(constraint.unwrap_or_default()), |f| json!(f));
            let shown = fields.map_or_else(|| format!("`{}`", constraint.unwrap_or("unknown")), |f| format!("(`{}`)", f.join("`,`")));
            Error::new(codes::UNIQUE_VIOLATION, format!("Unique constraint failed on the fields: {shown}")).with_meta("target", target)
        }
        // 23001 (restrict_violation) is what PostgreSQL 18 reports for ON DELETE/UPDATE RESTRICT.
        "23503" | "23001" => {
            let field = constraint.and_then(|c| fk_fields(schema, model, c)).map(|f| f.join(", "));
            let name = field.clone().or_else(|| constraint.map(str::to_owned)).unwrap_or_default();
            Error::new(codes::FOREIGN_KEY_VIOLATION, format!("Foreign key constraint violated on the field: `{name}`"))
                .with_meta("field_name", name)
                .with_meta("constraint", constraint.unwrap_or_default())
        }
        "23502" => {
            let field = column.map(|c| field_of_column(model, c));
            let name = field.unwrap_or_default();
            Error::new(codes::NULL_VIOLATION, format!("Null constraint violation on the fields: (`{name}`)"))
                .with_meta("constraint", json!([name]))
        }
        "22001" => {
            let e = Error::new(codes::VALUE_TOO_LONG, "The provided value for the column is too long for the column's type");
            match column {
                Some(c) => e.with_meta("column_name", field_of_column(model, c)),
                None => e,
            }
        }
        "22003" => Error::new(codes::OUT_OF_RANGE_VALUE, "Value out of range for the type").with_meta("details", "Value out of range for the type"),
        "40001" | "40P01" => Error::new(
            codes::SERIALIZATION_FAILURE,
            "Transaction failed due to a write conflict or a deadlock. Please retry your transaction",
        ),
        "22P02" | "22007" | "22008" | "22023" => {
            Error::new("P2023", "Inconsistent column data: a value does not fit its column's type").with_meta("message", "a value does not fit its column's type")
        }
        // The table or column a statement names is not in the database (Prisma's P2021 / P2022).
        "42P01" => {
            let name = quoted_name(db_message).or(table).unwrap_or("(not available)");
            Error::new("P2021", format!("The table `{name}` does not exist in the current database. {}", hint(sqlstate).unwrap_or_default()))
                .with_meta("table", name)
        }
        "42703" => {
            let name = quoted_name(db_message).or(column).unwrap_or("(not available)");
            Error::new("P2022", format!("The column `{name}` does not exist in the current database. {}", hint(sqlstate).unwrap_or_default()))
                .with_meta("column", name)
        }
        _ => {
            let said = if message_is_identifiers_only(sqlstate) && !db_message.is_empty() {
                db_message.to_owned()
            } else {
                "The database reported an error".to_owned()
            };
            let mut text = format!("{said} (SQLSTATE {sqlstate}){}", names.describe());
            if let Some(h) = hint(sqlstate) {
                text.push_str(". ");
                text.push_str(h);
            }
            let e = Error::new(codes::DRIVER, text);
            match hint(sqlstate) {
                Some(h) => e.with_meta("hint", h),
                None => e,
            }
        }
    };
    let mut e = e.with_meta("sqlstate", sqlstate);
    let reported = names.to_json();
    if reported.as_object().is_some_and(|m| !m.is_empty()) {
        e = e.with_meta("database", reported);
    }
    if let Some(m) = model {
        e = e.with_meta("modelName", m.name.clone());
    }
    e
}

fn field_of_column(model: Option<&Model>, column: &str) -> String {
    model
        .and_then(|m| m.scalar_fields().find(|(_, _, s)| s.db_name == column).map(|(_, f, _)| f.name.clone()))
        .unwrap_or_else(|| column.to_owned())
}

fn default_name(m: &Model, fields: &[crate::schema::FieldId], suffix: &str) -> String {
    let cols: Vec<&str> = fields.iter().map(|f| m.field(*f).as_scalar().map_or("", |s| s.db_name.as_str())).collect();
    format!("{}_{}_{suffix}", m.db_name, cols.join("_"))
}

/// The fields of the unique constraint or primary key named `constraint`.
fn unique_fields(schema: &Schema, model: Option<&Model>, constraint: &str) -> Option<Vec<String>> {
    let candidates: Vec<&Model> = model.map_or_else(|| schema.models.iter().collect(), |m| vec![m]);
    for m in candidates {
        let names = |fields: &[crate::schema::FieldId]| fields.iter().map(|f| m.field(*f).name.clone()).collect::<Vec<_>>();
        if let Some(pk) = &m.primary_key {
            let name = pk.db_name.clone().unwrap_or_else(|| format!("{}_pkey", m.db_name));
            if name == constraint {
                return Some(names(&pk.fields));
            }
        }
        for u in &m.uniques {
            let name = u.db_name.clone().unwrap_or_else(|| default_name(m, &u.fields, "key"));
            if name == constraint {
                return Some(names(&u.fields));
            }
        }
    }
    None
}

/// The foreign key fields of the relation whose constraint (or tenant twin) is `constraint`.
fn fk_fields(schema: &Schema, model: Option<&Model>, constraint: &str) -> Option<Vec<String>> {
    let candidates: Vec<&Model> = model.map_or_else(|| schema.models.iter().collect(), |m| vec![m]);
    for m in candidates {
        for f in &m.fields {
            let FieldKind::Relation(r) = &f.kind else { continue };
            let RelationLink::ForeignKey { fields, .. } = &r.link else { continue };
            let name = r.fk_name.clone().unwrap_or_else(|| default_name(m, fields, "fkey"));
            // Or its composite twin with the tenant column (row-level security DDL).
            if name == constraint || crate::ddl::tenant_fk_name(m, fields) == constraint {
                return Some(fields.iter().map(|id| m.field(*id).name.clone()).collect());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrict_violations_are_foreign_key_errors() {
        let schema = Schema::parse(
            "model User { id Int @id\n posts Post[] }\nmodel Post { id Int @id\n authorId Int\n author User @relation(fields: [authorId], references: [id], onDelete: Restrict) }",
        )
        .expect("schema");
        for sqlstate in ["23503", "23001"] {
            let e = map_driver_error(
                &schema,
                DriverError::Database {
                    sqlstate: sqlstate.into(),
                    message: "update or delete on table \"User\" violates foreign key constraint".into(),
                    schema: None,
                    constraint: Some("Post_authorId_fkey".into()),
                    table: Some("Post".into()),
                    column: None,
                },
            );
            assert_eq!(e.code(), codes::FOREIGN_KEY_VIOLATION, "{sqlstate}");
            assert_eq!(e.meta()["field_name"], json!("authorId"));
        }
    }

    fn db(sqlstate: &str, message: &str, table: Option<&str>, column: Option<&str>) -> DriverError {
        DriverError::Database {
            sqlstate: sqlstate.into(),
            message: message.into(),
            schema: Some("app".into()),
            constraint: None,
            table: table.map(Into::into),
            column: column.map(Into::into),
        }
    }

    #[test]
    fn database_errors_name_what_failed_never_values() {
        let schema = Schema::parse("model User { id Int @id\n email String }").expect("schema");
        let e = map_driver_error(&schema, db("42703", "column \"nope\" does not exist", None, None));
        assert_eq!((e.code(), e.meta()["column"].clone()), ("P2022", json!("nope")));
        assert!(e.message().contains("`nope`") && e.message().contains("db push"), "{e:?}");
        let e = map_driver_error(&schema, db("42703", "column u.nope does not exist", None, None));
        assert_eq!(e.meta()["column"], json!("u.nope"));
        let e = map_driver_error(&schema, db("42P01", "relation \"Nope\" does not exist", None, None));
        assert_eq!((e.code(), e.meta()["table"].clone()), ("P2021", json!("Nope")));
        let e = map_driver_error(&schema, db("3D000", "database \"shop\" does not exist", None, None));
        assert_eq!(e.code(), codes::DRIVER);
        assert!(e.message().starts_with("database \"shop\" does not exist (SQLSTATE 3D000)") && e.message().contains("Create the database"), "{e:?}");
        // A message that quotes a value stays out; the names PostgreSQL reported go in meta.
        let e = map_driver_error(&schema, db("22012", "division by zero near 'secret'", Some("User"), Some("email")));
        assert!(!e.message().contains("secret") && e.message().contains("table `User`, column `email`"), "{e:?}");
        assert_eq!(e.meta()["database"], json!({"schema": "app", "table": "User", "column": "email"}));
        let e = map_driver_error(&schema, db("22P02", "invalid input syntax for type integer: \"secret\"", None, None));
        assert!(!format!("{e:?}").contains("secret"), "{e:?}");
        let e = map_driver_error(&schema, DriverError::Connection("Connection refused (os error 111) at 127.0.0.1:1".into()));
        assert!(e.message().contains("127.0.0.1:1") && e.message().contains("Is PostgreSQL running"), "{e:?}");
    }
}
