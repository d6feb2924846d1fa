//! Driver errors -> engine errors with Prisma's codes. Database messages can quote values, so
//! they never become part of a message; the SQLSTATE and the schema names involved go in `meta`.

use super::driver::DriverError;
use crate::error::{Error, codes};
use crate::schema::{FieldKind, Model, RelationLink, Schema};
use serde_json::json;

pub fn map_driver_error(schema: &Schema, e: DriverError) -> Error {
    match e {
        DriverError::Database { sqlstate, constraint, table, column, .. } => {
            database_error(schema, &sqlstate, constraint.as_deref(), table.as_deref(), column.as_deref())
        }
        DriverError::PoolTimeout => {
            Error::new(codes::POOL_TIMEOUT, "timed out waiting for a connection from the pool")
        }
        DriverError::Connection(m) => Error::new(codes::DRIVER, format!("cannot reach the database: {m}")).with_meta("kind", "connection"),
        DriverError::TransactionClosed(m) => Error::new(codes::TRANSACTION_CLOSED, format!("transaction API error: {m}")),
        DriverError::Other(m) => Error::new(codes::DRIVER, m),
    }
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

fn database_error(schema: &Schema, sqlstate: &str, constraint: Option<&str>, table: Option<&str>, column: Option<&str>) -> Error {
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
        "22003" => Error::new(codes::OUT_OF_RANGE_VALUE, "Value out of range for the type"),
        "40001" | "40P01" => Error::new(
            codes::SERIALIZATION_FAILURE,
            "Transaction failed due to a write conflict or a deadlock. Please retry your transaction",
        ),
        "22P02" | "22007" | "22008" | "22023" => {
            Error::new("P2023", "A value does not fit its column's type")
        }
        _ => Error::new(codes::DRIVER, format!("The database reported an error (SQLSTATE {sqlstate})")),
    };
    let mut e = e.with_meta("sqlstate", sqlstate);
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
                    constraint: Some("Post_authorId_fkey".into()),
                    table: Some("Post".into()),
                    column: None,
                },
            );
            assert_eq!(e.code(), codes::FOREIGN_KEY_VIOLATION, "{sqlstate}");
            assert_eq!(e.meta()["field_name"], json!("authorId"));
        }
    }
}
