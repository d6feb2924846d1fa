//! The second wall: PostgreSQL row-level security keyed on a transaction-local setting.
//!
//! This file owns the tenant side of RLS: the setting's name and the bound, transaction-local
//! statement that sets it for a request; what each table's policies let a tenant see and write;
//! which foreign keys must carry the tenant column (foreign-key checks bypass RLS, so a plain
//! `authorId -> User.id` key would accept another tenant's user); and the check that the connected
//! role does not bypass RLS altogether. `ddl` renders the statements; the engine runs the setting
//! in RLS mode.
//!
//! The policies read `current_setting('app.current_tenant_id', true)`: unset (NULL) or empty
//! (what the setting falls back to once a transaction that set it ends) compare as NULL, so no row
//! matches — without a tenant, nothing is visible or writable (fail closed).

use super::TenantContext;
use crate::error::{Warning, codes};
use crate::exec::{DbValue, ResultSet};
use crate::schema::{FieldId, ModelId, ModelTenancy, RelationLink, RelationMode, Schema};
use crate::value::Value;

/// The setting the policies read.
pub const SETTING: &str = "app.current_tenant_id";

/// Opens every scoped request's transaction in RLS mode. The tenant id is bound (`$1`), never
/// spliced into the text, and `true` makes the value local to the transaction: it is gone when the
/// transaction commits or rolls back, so a pooled connection (PgBouncer in transaction mode
/// included) never carries it into another request.
pub const SET_TENANT_SQL: &str = "SELECT set_config('app.current_tenant_id', $1, true)";

/// The value [`SET_TENANT_SQL`] binds for a context: the tenant id as text, or `""` when there is
/// no tenant (which the policies treat as unset).
pub fn setting_value(ctx: &TenantContext) -> Value {
    let text = match ctx {
        TenantContext::Tenant(v) => match v {
            Value::String(s) | Value::Enum(s) | Value::Decimal(s) => s.clone(),
            Value::Int(i) | Value::BigInt(i) => i.to_string(),
            Value::Boolean(b) => b.to_string(),
            Value::Float(f) => f.to_string(),
            other => other.to_json().to_string(),
        },
        TenantContext::Missing | TenantContext::Unscoped => String::new(),
    };
    Value::String(text)
}

/// A statement and its bound parameters.
pub type Statement = (&'static str, Vec<Value>);

/// What RLS mode runs first in a request's own transaction: [`SET_TENANT_SQL`] for a tenant.
/// `None` without one — nothing to set (outside a transaction the setting is empty) and no
/// transaction needed for it.
pub fn set_tenant(ctx: &TenantContext) -> Option<Statement> {
    matches!(ctx, TenantContext::Tenant(_)).then(|| (SET_TENANT_SQL, vec![setting_value(ctx)]))
}

/// What RLS mode runs before each request of an interactive transaction: the request's tenant,
/// or empty when it has none, so a tenant an earlier request set does not stay for it.
pub fn set_tenant_in_transaction(ctx: &TenantContext) -> Statement {
    (SET_TENANT_SQL, vec![setting_value(ctx)])
}

/// The current tenant as the policies see it, cast to the tenant field's column type `cast`:
/// NULL when the setting is unset or empty.
pub fn current_tenant(cast: &str) -> String {
    format!("NULLIF(current_setting('{SETTING}', true), '')::{cast}")
}

/// What one table's policies allow, as SQL conditions over its own columns. `read` is the SELECT
/// policy's USING; `write` is INSERT's WITH CHECK, UPDATE's USING and WITH CHECK, and DELETE's
/// USING.
#[derive(Clone, Debug, PartialEq)]
pub struct Policies {
    pub read: String,
    pub write: String,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn column(schema: &Schema, model: ModelId, field: FieldId) -> String {
    schema.model(model).field(field).as_scalar().map_or_else(String::new, |s| s.db_name.clone())
}

/// The tenant field of a model that carries one (scoped models and the tenant model's key).
pub fn tenant_field(schema: &Schema, model: ModelId) -> Option<FieldId> {
    match schema.tenancy.of(model) {
        ModelTenancy::Scoped { field, .. } | ModelTenancy::Tenant { key: field } => Some(*field),
        ModelTenancy::Unscoped => None,
    }
}

/// The policies of a model's table, or `None` for an unscoped model. `cast` is the tenant field's
/// column type. A scoped model's rows belong to the tenant in the tenant column; a shared model
/// (optional tenant field) also lets a tenant read the rows without a tenant but write none of
/// them; the tenant model shows a tenant its own row only.
pub fn model_policies(schema: &Schema, model: ModelId, cast: &str) -> Option<Policies> {
    let t = current_tenant(cast);
    match schema.tenancy.of(model) {
        ModelTenancy::Unscoped => None,
        ModelTenancy::Scoped { field, shared } => {
            let c = quote(&column(schema, model, *field));
            let own = format!("{c} = {t}");
            let read = if *shared { format!("{t} IS NOT NULL AND ({c} = {t} OR {c} IS NULL)") } else { own.clone() };
            Some(Policies { read, write: own })
        }
        ModelTenancy::Tenant { key } => {
            let own = format!("{} = {t}", quote(&column(schema, model, *key)));
            Some(Policies { read: own.clone(), write: own })
        }
    }
}

/// One side of an implicit many-to-many join table: the join column (`A` or `B`) and the row it
/// points to (the model, its referenced id field, and its table as the DDL names it).
pub struct JoinSide<'a> {
    pub join_column: &'a str,
    pub model: ModelId,
    pub reference: FieldId,
    pub table: &'a str,
}

/// The policies of the implicit many-to-many join table `join_table` (it has no tenant column): a
/// link row is visible and writable only when the rows it joins on the scoped sides are visible to
/// the tenant — the `EXISTS` subqueries run under those tables' own policies. `None` when neither
/// side is scoped.
pub fn join_table_policies(schema: &Schema, join_table: &str, sides: &[JoinSide<'_>]) -> Option<Policies> {
    let conditions: Vec<String> = sides
        .iter()
        .filter(|s| tenant_field(schema, s.model).is_some())
        .map(|s| {
            format!(
                "EXISTS (SELECT 1 FROM {} AS \"side\" WHERE \"side\".{} = {}.{})",
                s.table,
                quote(&column(schema, s.model, s.reference)),
                quote(join_table),
                quote(s.join_column)
            )
        })
        .collect();
    if conditions.is_empty() {
        return None;
    }
    let c = conditions.join(" AND ");
    Some(Policies { read: c.clone(), write: c })
}

/// A foreign key that must also match the tenant column: `model(columns) -> target(references)`,
/// both lists starting with the tenant field. `relation` is the relation field it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct TenantKey {
    pub model: ModelId,
    pub relation: FieldId,
    pub target: ModelId,
    pub columns: Vec<FieldId>,
    pub references: Vec<FieldId>,
}

/// Every foreign key between two tenant-scoped tables, extended with the tenant column on both
/// sides so a row can only refer to a row of its own tenant. Skipped: relations to the tenant
/// model (the key already is the tenant), keys that already include the tenant field, targets
/// whose tenant field is optional (a tenant's row may refer to a shared row, which has no tenant
/// to match), and schemas that emulate relations (`relationMode = "prisma"`: no foreign keys).
pub fn tenant_keys(schema: &Schema) -> Vec<TenantKey> {
    let mut keys = Vec::new();
    if schema.relation_mode() != RelationMode::ForeignKeys {
        return keys;
    }
    for model in schema.model_ids() {
        let ModelTenancy::Scoped { field: own, .. } = schema.tenancy.of(model) else { continue };
        for (relation, _, r) in schema.model(model).relation_fields() {
            let RelationLink::ForeignKey { fields, references } = &r.link else { continue };
            let ModelTenancy::Scoped { field: theirs, shared: false } = schema.tenancy.of(r.related) else { continue };
            if fields.contains(own) || references.contains(theirs) {
                continue;
            }
            keys.push(TenantKey {
                model,
                relation,
                target: r.related,
                columns: std::iter::once(*own).chain(fields.iter().copied()).collect(),
                references: std::iter::once(*theirs).chain(references.iter().copied()).collect(),
            });
        }
    }
    keys
}

/// Reads whether the connected role bypasses row-level security. Its one row is interpreted by
/// [`role_warnings`]; a host runs it once when it connects in RLS mode.
pub const ROLE_CHECK_SQL: &str = "SELECT current_user::text AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user";

fn truthy(v: Option<&DbValue>) -> bool {
    match v {
        Some(DbValue::Bool(b)) => *b,
        Some(DbValue::Int(i)) => *i != 0,
        Some(DbValue::Text(s)) => matches!(s.as_str(), "t" | "true" | "TRUE" | "1"),
        _ => false,
    }
}

/// Warnings from the row of [`ROLE_CHECK_SQL`]: a superuser or a `BYPASSRLS` role is never
/// subject to the policies, so the second wall would not be there.
pub fn role_warnings(rows: &ResultSet) -> Vec<Warning> {
    let Some(row) = rows.rows.first() else { return Vec::new() };
    let role = match row.first() {
        Some(DbValue::Text(s)) => s.clone(),
        _ => String::from("the connected role"),
    };
    if truthy(row.get(1)) {
        vec![Warning::new(
            codes::RLS_SUPERUSER,
            format!("row-level security mode is on, but role {role} is a superuser: PostgreSQL does not apply row-level security to it; connect as a role without SUPERUSER and BYPASSRLS"),
        )
        .with_meta("role", role)]
    } else if truthy(row.get(2)) {
        vec![Warning::new(
            codes::RLS_BYPASS,
            format!("row-level security mode is on, but role {role} has BYPASSRLS: PostgreSQL does not apply row-level security to it; connect as a role without BYPASSRLS"),
        )
        .with_meta("role", role)]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{Column, ColumnType};

    fn schema() -> Schema {
        Schema::parse(
            r#"
            datasource db { provider = "postgresql" }
            model Tenant { id Int @id  users User[]  posts Post[]  tags Tag[] }
            model User { id Int @id  tenantId Int  tenant Tenant @relation(fields: [tenantId], references: [id])  posts Post[] }
            /// @quarry.shared
            model Tag { id Int @id  tenantId Int?  tenant Tenant? @relation(fields: [tenantId], references: [id])  posts Post[] }
            model Post {
              id Int @id
              tenantId Int
              tenant Tenant @relation(fields: [tenantId], references: [id])
              authorId Int
              author User @relation(fields: [authorId], references: [id])
              tagId Int?
              tag Tag? @relation(fields: [tagId], references: [id])
            }
            "#,
        )
        .unwrap()
    }

    #[test]
    fn policies_fail_closed_and_keep_shared_rows_read_only() {
        let s = schema();
        let t = "NULLIF(current_setting('app.current_tenant_id', true), '')::INTEGER";
        let post = model_policies(&s, s.find_model("Post").unwrap(), "INTEGER").unwrap();
        assert_eq!(post.read, format!("\"tenantId\" = {t}"));
        assert_eq!(post.write, post.read);
        let tag = model_policies(&s, s.find_model("Tag").unwrap(), "INTEGER").unwrap();
        assert_eq!(tag.read, format!("{t} IS NOT NULL AND (\"tenantId\" = {t} OR \"tenantId\" IS NULL)"));
        assert_eq!(tag.write, format!("\"tenantId\" = {t}"));
        let tenant = model_policies(&s, s.find_model("Tenant").unwrap(), "INTEGER").unwrap();
        assert_eq!(tenant.read, format!("\"id\" = {t}"));
    }

    #[test]
    fn tenant_keys_cover_scoped_targets_only() {
        let s = schema();
        let keys = tenant_keys(&s);
        // Post.author -> User gets (tenantId, authorId) -> (tenantId, id); Post.tag points at a
        // shared model and the tenant relations already are the tenant.
        assert_eq!(keys.len(), 1);
        let k = &keys[0];
        let post = s.model(k.model);
        assert_eq!(post.name, "Post");
        let names = |m: ModelId, f: &[FieldId]| f.iter().map(|f| s.model(m).field(*f).name.clone()).collect::<Vec<_>>();
        assert_eq!(names(k.model, &k.columns), ["tenantId", "authorId"]);
        assert_eq!(names(k.target, &k.references), ["tenantId", "id"]);
    }

    #[test]
    fn only_a_tenant_opens_a_transaction_with_the_setting() {
        assert_eq!(set_tenant(&TenantContext::Tenant(Value::Int(7))), Some((SET_TENANT_SQL, vec![Value::String("7".into())])));
        assert_eq!(set_tenant(&TenantContext::Unscoped), None);
        assert_eq!(set_tenant(&TenantContext::Missing), None);
        assert_eq!(set_tenant_in_transaction(&TenantContext::Unscoped), (SET_TENANT_SQL, vec![Value::String(String::new())]));
    }

    #[test]
    fn the_setting_value_is_text_and_empty_without_a_tenant() {
        assert_eq!(setting_value(&TenantContext::Tenant(Value::Int(7))), Value::String("7".into()));
        assert_eq!(setting_value(&TenantContext::Tenant(Value::String("a-b".into()))), Value::String("a-b".into()));
        assert_eq!(setting_value(&TenantContext::Missing), Value::String(String::new()));
        assert_eq!(setting_value(&TenantContext::Unscoped), Value::String(String::new()));
        assert!(!SET_TENANT_SQL.contains("7"));
    }

    #[test]
    fn role_rows_become_warnings() {
        let rows = |s: DbValue, b: DbValue| ResultSet {
            columns: vec![Column { name: "role".into(), ty: ColumnType::Text }],
            rows: vec![vec![DbValue::Text("app".into()), s, b]],
        };
        assert!(role_warnings(&rows(DbValue::Bool(false), DbValue::Bool(false))).is_empty());
        assert_eq!(role_warnings(&rows(DbValue::Bool(true), DbValue::Bool(true)))[0].code, codes::RLS_SUPERUSER);
        assert_eq!(role_warnings(&rows(DbValue::Text("f".into()), DbValue::Text("t".into())))[0].code, codes::RLS_BYPASS);
        assert!(role_warnings(&ResultSet::default()).is_empty());
    }
}
