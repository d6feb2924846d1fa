//! Declared tenancy: how each model is treated under a tenant, worked out from the schema and
//! checked so that a mistake is an error at load time, never a silent absence of scope.
//!
//! A model is *scoped* when it has the tenant field (`tenantId` unless configured), *shared* when
//! that field is optional and the model says so, *global* when it has no tenant field, or the
//! *tenant model* the tenant field refers to. Declarations live in documentation comments, which
//! Prisma's own tooling keeps and ignores:
//!
//! ```prisma
//! /// @quarry.global            a model without the tenant field, read-only under a tenant
//! /// @quarry.global(writable)  ... that tenants may write
//! /// @quarry.shared            an optional tenant field: rows without a tenant are shared
//! /// @quarry.shared(writable)  ... and tenants may change (never create or claim) shared rows
//! /// @quarry.scoped            asserts the model has the tenant field
//! /// @quarry.tenant            the tenant model (otherwise found through the tenant field)
//! ```
//!
//! Refused: a configured tenant field (or any declaration) with no scoped model; a model that
//! refers to the tenant model without a tenant field and without `@quarry.global`; an optional
//! tenant field without `@quarry.shared`; a declaration that contradicts the fields; `SetNull` /
//! `SetDefault` on a relation to the tenant model (deleting a tenant would turn its rows into
//! shared rows). Where such a relation leaves `onDelete` to its default, it is `Restrict`, not
//! Prisma's `SetNull` for optional relations. The scope stage acts on the result; nothing here
//! looks at a statement.

use super::parse::ast;
use super::resolve::{invalid_at, relation_attr};
use super::{Arity, FieldId, ModelId, ModelTenancy, ReferentialAction, RelationLink, ScalarType, Schema, SchemaOptions, Tenancy};
use crate::error::{Error, Result, codes};
use serde_json::{Value as Json, json};

/// The default name of the tenant field.
pub const DEFAULT_TENANT_FIELD: &str = "tenantId";

const ATTRIBUTES: &[&str] = &["global", "shared", "scoped", "tenant"];

/// What a model's documentation declares.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Declared {
    global: bool,
    shared: bool,
    scoped: bool,
    tenant: bool,
    writable: bool,
    any: bool,
}

fn error(span: ast::Span, message: impl Into<String>) -> Error {
    let e = invalid_at(span, message);
    Error::new(codes::TENANCY_INVALID, e.message().to_owned()).with_meta("line", span.line).with_meta("column", span.column)
}

/// Reads `@quarry.<name>` and `@quarry.<name>(writable)` out of a model's documentation.
fn declarations(doc: Option<&str>, model: &str, span: ast::Span) -> Result<Declared> {
    let mut d = Declared::default();
    let Some(doc) = doc else { return Ok(d) };
    let mut rest = doc;
    while let Some(i) = rest.find("@quarry.") {
        let after = &rest[i + "@quarry.".len()..];
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let mut tail = &after[name.len()..];
        let mut writable = false;
        if let Some(args) = tail.strip_prefix('(') {
            let Some(end) = args.find(')') else {
                return Err(error(span, format!("model {model}: @quarry.{name}( is not closed")));
            };
            match args[..end].trim() {
                "writable" if name == "global" || name == "shared" => writable = true,
                other => {
                    return Err(error(span, format!("model {model}: @quarry.{name} takes no argument \"{other}\" (only @quarry.global and @quarry.shared take \"writable\")")));
                }
            }
            tail = &args[end + 1..];
        }
        match name.as_str() {
            "global" => d.global = true,
            "shared" => d.shared = true,
            "scoped" => d.scoped = true,
            "tenant" => d.tenant = true,
            other => {
                let hint = crate::query::path::suggest(other, ATTRIBUTES).map(|s| format!(" (did you mean @quarry.{s}?)")).unwrap_or_default();
                return Err(error(span, format!("model {model}: unknown declaration @quarry.{other}{hint}; expected one of @quarry.global, @quarry.shared, @quarry.scoped, @quarry.tenant")));
            }
        }
        d.writable |= writable;
        d.any = true;
        rest = tail;
    }
    let kinds = [d.global, d.shared, d.scoped, d.tenant].iter().filter(|x| **x).count();
    if kinds > 1 {
        return Err(error(span, format!("model {model}: declare one of @quarry.global, @quarry.shared, @quarry.scoped and @quarry.tenant")));
    }
    Ok(d)
}

/// The scalar field that most models use as a foreign key to one and the same model, when at least
/// two do (`organizationId` in a schema whose tenant column is called that): a guess at the
/// tenant field for error messages and warnings.
pub fn likely_tenant_field(schema: &Schema) -> Option<(String, ModelId, usize)> {
    let mut counts: Vec<(String, ModelId, usize)> = Vec::new();
    for id in schema.model_ids() {
        let m = schema.model(id);
        for (_, _, r) in m.relation_fields() {
            let RelationLink::ForeignKey { fields, .. } = &r.link else { continue };
            let [f] = fields.as_slice() else { continue };
            if r.related == id {
                continue;
            }
            let name = m.field(*f).name.clone();
            match counts.iter_mut().find(|(n, t, _)| *n == name && *t == r.related) {
                Some(c) => c.2 += 1,
                None => counts.push((name, r.related, 1)),
            }
        }
    }
    counts.into_iter().filter(|c| c.2 >= 2).max_by_key(|c| c.2)
}

/// Whether a model or field name reads like a tenant: `Tenant`, `Organization`, `orgId`,
/// `workspaceId`, `Team`, `Company`.
pub fn tenant_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["tenant", "organization", "organisation", "org", "workspace", "team", "company"].iter().any(|w| n.starts_with(w))
}

/// The warning for a schema that declares no tenancy yet looks multi-tenant: several models refer
/// to a tenant-like model (`Organization`) through one field (`organizationId`) that is not the
/// tenant field.
pub fn undeclared_tenancy_warning(schema: &Schema) -> Option<crate::error::Warning> {
    if schema.has_tenant_scope() {
        return None;
    }
    let (name, target, count) = likely_tenant_field(schema)?;
    let target_name = &schema.model(target).name;
    if !tenant_like(target_name) && !tenant_like(&name) {
        return None;
    }
    Some(
        crate::error::Warning::new(
            codes::TENANCY_UNDECLARED,
            format!(
                "no model is tenant-scoped (none has the tenant field {}), but {count} models refer to {target_name} through {name}: if {target_name} is your tenant, set the tenant field's name to {name} (tenantField); otherwise declare {target_name}'s models /// @quarry.global",
                schema.tenancy.field_name
            ),
        )
        .with_meta("tenantField", schema.tenancy.field_name.clone())
        .with_meta("candidate", name),
    )
}

/// Works out and checks every model's tenancy; may change the default referential actions of
/// relations to the tenant model (see the module documentation).
pub(super) fn resolve_tenancy(schema: &mut Schema, asts: &[&ast::ModelAst], options: &SchemaOptions) -> Result<()> {
    let configured_field = options
        .tenant_field
        .clone()
        .or_else(|| schema.generator_property("quarry", "tenantField").and_then(|v| v.as_str()).map(str::to_owned));
    let field_name = configured_field.clone().unwrap_or_else(|| DEFAULT_TENANT_FIELD.to_owned());
    let declared: Vec<Declared> = schema
        .model_ids()
        .map(|id| declarations(schema.model(id).documentation.as_deref(), &schema.model(id).name, asts[id.0 as usize].span))
        .collect::<Result<_>>()?;
    let n = schema.models.len();
    let mut models = vec![ModelTenancy::Unscoped; n];
    let mut writable = vec![false; n];
    let mut tenant_model: Option<(ModelId, FieldId)> = None;
    let mut tenant_type: Option<ScalarType> = None;
    for id in schema.model_ids() {
        let m = schema.model(id);
        let d = declared[id.0 as usize];
        let model_span = asts[id.0 as usize].span;
        let field = m.find_field(&field_name).filter(|f| m.field(*f).as_scalar().is_some());
        let Some(fid) = field else {
            if d.scoped || d.shared {
                let hint = likely_tenant_field(schema)
                    .filter(|(name, _, _)| m.find_field(name).is_some())
                    .map(|(name, _, _)| format!(" (did you mean {name}? set the tenant field's name with tenantField)"))
                    .unwrap_or_default();
                let what = if d.shared { "shared" } else { "scoped" };
                return Err(error(model_span, format!("model {} is declared {what} but has no tenant field {field_name}{hint}", m.name)));
            }
            writable[id.0 as usize] = d.writable;
            continue;
        };
        let f = m.field(fid);
        let span = asts[id.0 as usize].fields[fid.0 as usize].span;
        if d.global {
            return Err(error(span, format!("model {} is declared @quarry.global but has the tenant field {field_name}: remove one or the other", m.name)));
        }
        if d.tenant {
            return Err(error(span, format!("the tenant model {} cannot itself have the tenant field {field_name}", m.name)));
        }
        if f.is_list() {
            return Err(error(span, format!("the tenant field {field_name} cannot be a list")));
        }
        let s = f.as_scalar().map(|s| s.ty.clone());
        match (&tenant_type, s) {
            (None, Some(t)) => tenant_type = Some(t),
            (Some(t), Some(s)) if *t != s => {
                return Err(error(span, format!("the tenant field {}.{field_name} has a different type than on other models", m.name)));
            }
            _ => {}
        }
        let optional = f.arity == Arity::Optional;
        if optional && !d.shared {
            return Err(error(
                span,
                format!(
                    "{}.{field_name} is optional: declare /// @quarry.shared on model {} to make its rows without a tenant shared by every tenant (read-only under a tenant), or make the field required",
                    m.name, m.name
                ),
            ));
        }
        if d.shared && !optional {
            return Err(error(span, format!("model {} is declared @quarry.shared, but its tenant field {field_name} is required: make it optional", m.name)));
        }
        models[id.0 as usize] = ModelTenancy::Scoped { field: fid, shared: optional };
        writable[id.0 as usize] = d.writable;
        for (_, _, r) in m.relation_fields() {
            if let RelationLink::ForeignKey { fields, references } = &r.link {
                if fields.as_slice() == [fid] {
                    match tenant_model {
                        None => tenant_model = Some((r.related, references[0])),
                        Some((tm, _)) if tm != r.related => {
                            return Err(error(span, format!("{}.{field_name} refers to a different tenant model than other models do", m.name)));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    // A model declared @quarry.tenant.
    for id in schema.model_ids().filter(|id| declared[id.0 as usize].tenant) {
        let m = schema.model(id);
        let span = asts[id.0 as usize].span;
        match tenant_model {
            Some((tm, _)) if tm != id => {
                return Err(error(span, format!("model {} is declared @quarry.tenant, but the tenant field {field_name} refers to {}", m.name, schema.model(tm).name)));
            }
            Some(_) => {}
            None => {
                let key = match m.primary_key.as_ref().map(|pk| pk.fields.as_slice()) {
                    Some([key]) => *key,
                    _ => return Err(error(span, format!("the tenant model {} needs a single-field @id", m.name))),
                };
                tenant_model = Some((id, key));
            }
        }
    }
    let any_declared = declared.iter().any(|d| d.any);
    let scoped = models.iter().filter(|t| matches!(t, ModelTenancy::Scoped { .. })).count();
    if scoped == 0 && (configured_field.is_some() || any_declared) {
        let hint = likely_tenant_field(schema)
            .filter(|(name, _, _)| *name != field_name)
            .map(|(name, target, count)| format!(" (did you mean {name}? {count} models refer to {} through it)", schema.model(target).name))
            .unwrap_or_default();
        let span = asts.first().map_or(ast::Span { line: 1, column: 1 }, |a| a.span);
        let why = if configured_field.is_some() { "the schema sets the tenant field" } else { "the schema declares tenancy" };
        return Err(error(span, format!("{why}, but no model has the tenant field {field_name}{hint}"))
            .with_meta("tenantField", field_name.clone()));
    }
    if let Some((tm, key)) = tenant_model {
        if declared[tm.0 as usize].global || declared[tm.0 as usize].shared {
            let span = asts[tm.0 as usize].span;
            return Err(error(span, format!("model {} is the tenant model (the tenant field {field_name} refers to it): it cannot be declared global or shared", schema.model(tm).name)));
        }
        models[tm.0 as usize] = ModelTenancy::Tenant { key };
        // Models that refer to the tenant model must carry the tenant field or say they are global.
        for id in schema.model_ids() {
            if id == tm || !matches!(models[id.0 as usize], ModelTenancy::Unscoped) || declared[id.0 as usize].global {
                continue;
            }
            let m = schema.model(id);
            let refers = m.relation_fields().find(|(_, _, r)| {
                r.related == tm && matches!(r.link, RelationLink::ForeignKey { .. } | RelationLink::JoinTable { .. })
            });
            if let Some((fid, f, _)) = refers {
                let span = asts[id.0 as usize].fields[fid.0 as usize].span;
                let hint = match &f.as_relation().map(|r| &r.link) {
                    Some(RelationLink::ForeignKey { fields, .. }) => match fields.as_slice() {
                        [own] => format!(" (if {} is your tenant column, set the tenant field's name to it with tenantField)", m.field(*own).name),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                return Err(error(
                    span,
                    format!(
                        "model {} refers to the tenant model {} but has no tenant field {field_name}: add the field, or declare the model global with /// @quarry.global if its rows belong to no tenant{hint}",
                        m.name,
                        schema.model(tm).name
                    ),
                ));
            }
        }
        fix_tenant_relation_actions(schema, asts, tm)?;
    }
    schema.tenancy = Tenancy { field_name, tenant_model: tenant_model.map(|(m, _)| m), models, writable, declared: configured_field.is_some() || any_declared };
    Ok(())
}

/// Relations to the tenant model may not set the tenant field to NULL or a default when a tenant
/// row is deleted or re-keyed (that would publish the tenant's rows as shared rows or hand them to
/// another tenant); an optional relation's default `onDelete` becomes `Restrict`.
fn fix_tenant_relation_actions(schema: &mut Schema, asts: &[&ast::ModelAst], tm: ModelId) -> Result<()> {
    let mut changes: Vec<(ModelId, FieldId)> = Vec::new();
    for id in schema.model_ids() {
        let m = schema.model(id);
        for (fid, _, r) in m.relation_fields() {
            if r.related != tm || !matches!(r.link, RelationLink::ForeignKey { .. }) {
                continue;
            }
            let attr = relation_attr(&asts[id.0 as usize].fields[fid.0 as usize])?;
            for (key, explicit) in [("onDelete", attr.on_delete), ("onUpdate", attr.on_update)] {
                if let Some(a @ (ReferentialAction::SetNull | ReferentialAction::SetDefault)) = explicit {
                    return Err(error(
                        attr.span,
                        format!(
                            "{}.{}: {key}: {a:?} on a relation to the tenant model {} would turn a tenant's rows into shared rows or another tenant's; use Cascade or Restrict",
                            m.name,
                            m.field(fid).name,
                            schema.model(tm).name
                        ),
                    ));
                }
            }
            if attr.on_delete.is_none() {
                changes.push((id, fid));
            }
        }
    }
    for (id, fid) in changes {
        let Some(back) = schema.model(id).field(fid).as_relation().and_then(|r| r.back) else { continue };
        for (m, f) in [(id, fid), (tm, back)] {
            if let super::FieldKind::Relation(r) = &mut schema.models[m.0 as usize].fields[f.0 as usize].kind {
                if r.on_delete == ReferentialAction::SetNull {
                    r.on_delete = ReferentialAction::Restrict;
                }
            }
        }
    }
    Ok(())
}

impl Schema {
    /// How each model is treated under a tenant, for a client or CLI to print:
    /// `[{ "model", "tenancy": "scoped" | "shared" | "global" | "tenant", "field"?, "writable" }]`.
    pub fn tenancy_table(&self) -> Json {
        Json::Array(
            self.model_ids()
                .map(|id| {
                    let m = self.model(id);
                    let (kind, field) = match self.tenancy.of(id) {
                        ModelTenancy::Scoped { field, shared } => (if *shared { "shared" } else { "scoped" }, Some(*field)),
                        ModelTenancy::Tenant { key } => ("tenant", Some(*key)),
                        ModelTenancy::Unscoped => ("global", None),
                    };
                    let mut row = json!({ "model": m.name, "tenancy": kind, "writable": self.tenancy.writable(id) });
                    if let Some(f) = field {
                        row["field"] = Json::from(m.field(f).name.clone());
                    }
                    row
                })
                .collect(),
        )
    }

    /// Whether any model is tenant-scoped (a tenant context means something).
    pub fn has_tenant_scope(&self) -> bool {
        self.tenancy.models.iter().any(|t| matches!(t, ModelTenancy::Scoped { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Schema> {
        Schema::parse(&format!("datasource db {{ provider = \"postgresql\" }}\n{text}"))
    }

    fn parse_with(text: &str, field: &str) -> Result<Schema> {
        Schema::parse_with(
            &format!("datasource db {{ provider = \"postgresql\" }}\n{text}"),
            &SchemaOptions { tenant_field: Some(field.to_owned()) },
        )
    }

    const ORGS: &str = r#"
        model Organization { id String @id  tasks Task[]  projects Project[] }
        model Project { id Int @id  organizationId String  organization Organization @relation(fields: [organizationId], references: [id])  tasks Task[] }
        model Task { id Int @id  organizationId String  organization Organization @relation(fields: [organizationId], references: [id])  projectId Int  project Project @relation(fields: [projectId], references: [id]) }
    "#;

    fn code(r: Result<Schema>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => format!("{} {}", e.code(), e.message()),
        }
    }

    #[test]
    fn a_tenant_field_that_matches_no_model_is_an_error() {
        let e = code(parse_with(ORGS, "orgId"));
        assert!(e.starts_with("Q1003"), "{e}");
        assert!(e.contains("did you mean organizationId?"), "{e}");
        // Named right, every model but the tenant model is scoped.
        let s = parse_with(ORGS, "organizationId").unwrap();
        let table = s.tenancy_table();
        let kinds: Vec<&str> = table.as_array().unwrap().iter().map(|r| r["tenancy"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["tenant", "scoped", "scoped"]);
        // Undeclared, the schema has no tenancy at all (a single-tenant app), and says so.
        let plain = parse(ORGS).unwrap();
        assert!(!plain.has_tenant_scope());
        assert_eq!(likely_tenant_field(&plain).map(|(n, _, c)| (n, c)), Some(("organizationId".to_owned(), 2)));
    }

    #[test]
    fn a_model_referring_to_the_tenant_model_must_be_scoped_or_declared_global() {
        let text = r#"
            model Tenant { id String @id  users User[]  invoices Invoice[] }
            model User { id Int @id  tenantId String  tenant Tenant @relation(fields: [tenantId], references: [id]) }
            model Invoice { id Int @id  orgId String  org Tenant @relation(fields: [orgId], references: [id]) }
        "#;
        let e = code(parse(text));
        assert!(e.starts_with("Q1003") && e.contains("model Invoice refers to the tenant model Tenant"), "{e}");
        let declared = text.replace("model Invoice", "/// @quarry.global\nmodel Invoice");
        assert_eq!(code(parse(&declared)), "ok");
    }

    #[test]
    fn shared_rows_are_declared() {
        let text = r#"
            model Tenant { id String @id  tags Tag[]  users User[] }
            model User { id Int @id  tenantId String  tenant Tenant @relation(fields: [tenantId], references: [id]) }
            model Tag { id Int @id  tenantId String?  tenant Tenant? @relation(fields: [tenantId], references: [id]) }
        "#;
        let e = code(parse(text));
        assert!(e.contains("declare /// @quarry.shared on model Tag"), "{e}");
        let s = parse(&text.replace("model Tag", "/// Tags.\n/// @quarry.shared\nmodel Tag")).unwrap();
        let tag = s.find_model("Tag").unwrap();
        assert!(matches!(s.tenancy.of(tag), ModelTenancy::Scoped { shared: true, .. }));
        // Prisma's default SetNull would publish a deleted tenant's tags: it becomes Restrict.
        let (_, _, r) = s.model(tag).relation_fields().next().unwrap();
        assert_eq!(r.on_delete, ReferentialAction::Restrict);
        // Written out, SetNull is refused.
        let explicit = text
            .replace("model Tag", "/// @quarry.shared\nmodel Tag")
            .replace("tenant Tenant? @relation(fields: [tenantId], references: [id])", "tenant Tenant? @relation(fields: [tenantId], references: [id], onDelete: SetNull)");
        let e = code(parse(&explicit));
        assert!(e.starts_with("Q1003") && e.contains("onDelete: SetNull"), "{e}");
        // Declared shared with a required field, or global with the field: contradictions.
        assert!(code(parse(&text.replace("model User", "/// @quarry.shared\nmodel User"))).contains("is required"));
        assert!(code(parse(&text.replace("model User", "/// @quarry.global\nmodel User"))).contains("has the tenant field"));
    }

    #[test]
    fn declarations_are_checked() {
        let text = r#"
            model Tenant { id String @id  users User[] }
            /// @quarry.gloabl
            model Country { code String @id }
            model User { id Int @id  tenantId String  tenant Tenant @relation(fields: [tenantId], references: [id]) }
        "#;
        let e = code(parse(text));
        assert!(e.contains("unknown declaration @quarry.gloabl (did you mean @quarry.global?)"), "{e}");
        let ok = parse(&text.replace("@quarry.gloabl", "@quarry.global(writable)")).unwrap();
        assert!(ok.tenancy.writable(ok.find_model("Country").unwrap()));
        assert!(code(parse(&text.replace("@quarry.gloabl", "@quarry.scoped"))).contains("declared scoped but has no tenant field tenantId"));
        // Declarations with no scoped model at all.
        let lone = "/// @quarry.global\nmodel Country { code String @id }";
        assert!(code(parse(lone)).contains("declares tenancy, but no model has the tenant field tenantId"));
    }
}
