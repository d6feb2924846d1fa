//! The schema stage: Prisma schema language text in, a resolved [`Schema`] out.
//!
//! `parse` turns text into a syntax tree (errors carry line:column), `resolve` checks it and builds
//! the types below: models with their fields, keys and indexes, enums, relations resolved to the
//! columns that link them, and which models are tenant-scoped. Everything downstream reads these
//! types; nothing downstream looks at schema text.

pub(crate) mod describe;
mod parse;
mod resolve;
mod tenancy;

use crate::error::Result;

pub use describe::describe;
pub use parse::{parse_ast, ast};
pub use tenancy::{DEFAULT_TENANT_FIELD, likely_tenant_field, tenant_like, undeclared_tenancy_warning};

/// Index of a model in [`Schema::models`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(pub u32);

/// Index of a field in its model's [`Model::fields`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

/// Index of an enum in [`Schema::enums`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u32);

/// Options that come from the client rather than the schema text.
#[derive(Clone, Debug, Default)]
pub struct SchemaOptions {
    /// Overrides `generator quarry { tenantField = "..." }`; default `tenantId`.
    pub tenant_field: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Schema {
    pub datasource: Option<Datasource>,
    pub generators: Vec<Generator>,
    pub models: Vec<Model>,
    pub enums: Vec<Enum>,
    pub tenancy: Tenancy,
}

impl Schema {
    /// Parses and resolves schema text with default options.
    pub fn parse(text: &str) -> Result<Schema> {
        Self::parse_with(text, &SchemaOptions::default())
    }

    pub fn parse_with(text: &str, options: &SchemaOptions) -> Result<Schema> {
        let ast = parse::parse_ast(text)?;
        resolve::resolve(&ast, options)
    }

    pub fn model(&self, id: ModelId) -> &Model {
        &self.models[id.0 as usize]
    }

    pub fn enum_(&self, id: EnumId) -> &Enum {
        &self.enums[id.0 as usize]
    }

    pub fn find_model(&self, name: &str) -> Option<ModelId> {
        self.models.iter().position(|m| m.name == name).map(|i| ModelId(i as u32))
    }

    pub fn find_enum(&self, name: &str) -> Option<EnumId> {
        self.enums.iter().position(|e| e.name == name).map(|i| EnumId(i as u32))
    }

    pub fn model_ids(&self) -> impl Iterator<Item = ModelId> + '_ {
        (0..self.models.len() as u32).map(ModelId)
    }

    pub fn provider(&self) -> Provider {
        self.datasource.as_ref().map_or(Provider::Postgresql, |d| d.provider)
    }

    pub fn relation_mode(&self) -> RelationMode {
        self.datasource.as_ref().map_or(RelationMode::ForeignKeys, |d| d.relation_mode)
    }

    /// A generator's property, e.g. `generator("quarry", "tenantField")`.
    pub fn generator_property(&self, generator: &str, key: &str) -> Option<&ConfigValue> {
        self.generators
            .iter()
            .filter(|g| g.name == generator)
            .flat_map(|g| g.properties.iter())
            .find(|p| p.key == key)
            .map(|p| &p.value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Postgresql,
    Mysql,
    Sqlite,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationMode {
    /// The database's foreign keys enforce relations and referential actions.
    ForeignKeys,
    /// No foreign keys in the database; the engine emulates referential actions.
    Prisma,
}

#[derive(Clone, Debug)]
pub struct Datasource {
    pub name: String,
    pub provider: Provider,
    pub relation_mode: RelationMode,
    /// Every `key = value` of the block, including `provider` and `relationMode`.
    pub properties: Vec<ConfigProperty>,
}

#[derive(Clone, Debug)]
pub struct Generator {
    pub name: String,
    pub properties: Vec<ConfigProperty>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigProperty {
    pub key: String,
    pub value: ConfigValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConfigValue {
    String(String),
    Number(String),
    Bool(bool),
    Array(Vec<ConfigValue>),
    /// A bare identifier (`relationMode = prisma` is not valid Prisma, but enum-like values are).
    Ident(String),
    /// `env("DATABASE_URL")` and other calls.
    Function { name: String, args: Vec<ConfigValue> },
}

impl ConfigValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ConfigValue::String(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Enum {
    pub name: String,
    /// `@@map` or the name.
    pub db_name: String,
    pub values: Vec<EnumValue>,
    pub documentation: Option<String>,
}

#[derive(Clone, Debug)]
pub struct EnumValue {
    pub name: String,
    /// `@map` or the name; this is what the database stores.
    pub db_name: String,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    /// `@@map` or the name.
    pub db_name: String,
    pub fields: Vec<Field>,
    /// `@id` or `@@id`. Prisma requires one of `@id`, `@@id`, `@unique`, `@@unique` per model.
    pub primary_key: Option<PrimaryKey>,
    /// `@unique` (one field) and `@@unique` constraints, in schema order.
    pub uniques: Vec<UniqueConstraint>,
    /// `@@index` (not unique).
    pub indexes: Vec<Index>,
    /// `@@ignore`: not part of the client API, still part of the database.
    pub ignored: bool,
    pub documentation: Option<String>,
}

impl Model {
    pub fn field(&self, id: FieldId) -> &Field {
        &self.fields[id.0 as usize]
    }

    pub fn find_field(&self, name: &str) -> Option<FieldId> {
        self.fields.iter().position(|f| f.name == name).map(|i| FieldId(i as u32))
    }

    pub fn field_ids(&self) -> impl Iterator<Item = FieldId> + '_ {
        (0..self.fields.len() as u32).map(FieldId)
    }

    /// Scalar fields that are part of the client API (not `@ignore`d), in schema order.
    pub fn scalar_fields(&self) -> impl Iterator<Item = (FieldId, &Field, &ScalarField)> + '_ {
        self.fields.iter().enumerate().filter_map(|(i, f)| match &f.kind {
            FieldKind::Scalar(s) if !f.ignored => Some((FieldId(i as u32), f, s)),
            _ => None,
        })
    }

    pub fn relation_fields(&self) -> impl Iterator<Item = (FieldId, &Field, &RelationField)> + '_ {
        self.fields.iter().enumerate().filter_map(|(i, f)| match &f.kind {
            FieldKind::Relation(r) if !f.ignored => Some((FieldId(i as u32), f, r)),
            _ => None,
        })
    }

    /// The key naming a unique criterion in a unique `where`: the field for one field, else the
    /// `@@id` / `@@unique` name or the field names joined by `_` (`tenantId_email`).
    pub fn key_name(&self, fields: &[FieldId], name: Option<&str>) -> String {
        if fields.len() == 1 {
            return self.field(fields[0]).name.clone();
        }
        name.map(str::to_owned)
            .unwrap_or_else(|| fields.iter().map(|f| self.field(*f).name.as_str()).collect::<Vec<_>>().join("_"))
    }

    /// The fields that identify a row: the primary key, else the first unique constraint whose
    /// fields are all required.
    pub fn identifier(&self) -> &[FieldId] {
        if let Some(pk) = &self.primary_key {
            return &pk.fields;
        }
        self.uniques
            .iter()
            .find(|u| u.fields.iter().all(|f| self.field(*f).arity == Arity::Required))
            .or(self.uniques.first())
            .map_or(&[], |u| &u.fields)
    }
}

#[derive(Clone, Debug)]
pub struct PrimaryKey {
    pub fields: Vec<FieldId>,
    /// `@@id(name: "...")`: the name of the compound key in `where` (default `a_b`).
    pub name: Option<String>,
    /// `map:`: the constraint name in the database (default `Model_pkey`).
    pub db_name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct UniqueConstraint {
    pub fields: Vec<FieldId>,
    /// `@@unique(name: "...")`: the name of the compound key in `where` (default `a_b`).
    pub name: Option<String>,
    /// `map:`: the index name in the database (default `Model_a_b_key`).
    pub db_name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Index {
    pub fields: Vec<IndexField>,
    /// `map:` / `name:`: the index name in the database (default `Model_a_b_idx`).
    pub db_name: Option<String>,
    /// `type:` (BTree, Hash, Gist, Gin, SpGist, Brin), PostgreSQL only.
    pub kind: Option<String>,
}

#[derive(Clone, Debug)]
pub struct IndexField {
    pub field: FieldId,
    pub sort: Option<SortOrder>,
    pub length: Option<u32>,
    pub ops: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Required,
    Optional,
    List,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub arity: Arity,
    pub kind: FieldKind,
    /// `@ignore`.
    pub ignored: bool,
    /// `///` comments above the field.
    pub documentation: Option<String>,
}

impl Field {
    pub fn as_scalar(&self) -> Option<&ScalarField> {
        match &self.kind {
            FieldKind::Scalar(s) => Some(s),
            FieldKind::Relation(_) => None,
        }
    }

    pub fn as_relation(&self) -> Option<&RelationField> {
        match &self.kind {
            FieldKind::Relation(r) => Some(r),
            FieldKind::Scalar(_) => None,
        }
    }

    pub fn is_list(&self) -> bool {
        self.arity == Arity::List
    }

    pub fn is_required(&self) -> bool {
        self.arity == Arity::Required
    }
}

#[derive(Clone, Debug)]
pub enum FieldKind {
    Scalar(ScalarField),
    Relation(RelationField),
}

#[derive(Clone, Debug)]
pub struct ScalarField {
    /// `@map` or the field name: the column.
    pub db_name: String,
    pub ty: ScalarType,
    /// `@db.VarChar(255)` and friends.
    pub native_type: Option<NativeType>,
    pub default: Option<DefaultValue>,
    /// `@updatedAt`.
    pub updated_at: bool,
    /// `@id` on this field (also recorded in [`Model::primary_key`]).
    pub is_id: bool,
    /// `@unique` on this field (also recorded in [`Model::uniques`]).
    pub is_unique: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScalarType {
    String,
    Int,
    BigInt,
    Float,
    Decimal,
    Boolean,
    DateTime,
    Json,
    Bytes,
    Enum(EnumId),
    /// `Unsupported("...")`: present in the database, not readable or writable by the client.
    Unsupported(String),
}

/// A native type attribute: `@db.VarChar(255)` is `{ name: "VarChar", args: ["255"] }`.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeType {
    pub name: String,
    pub args: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    Autoincrement,
    /// `now()`.
    Now,
    /// `uuid()` / `uuid(4)` / `uuid(7)`: the version.
    Uuid(u8),
    /// `cuid()` / `cuid(2)`: the version.
    Cuid(u8),
    /// `nanoid()` / `nanoid(n)`.
    Nanoid(Option<u32>),
    Ulid,
    /// `dbgenerated("...")`: the SQL expression, if given.
    DbGenerated(Option<String>),
    /// `sequence()` (CockroachDB); kept so such schemas parse.
    Sequence,
    /// `auto()` (MongoDB); kept so such schemas parse.
    Auto,
    Literal(Literal),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    String(String),
    /// The number as written.
    Number(String),
    Boolean(bool),
    /// An enum value name.
    EnumValue(String),
    List(Vec<Literal>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferentialAction {
    Cascade,
    Restrict,
    NoAction,
    SetNull,
    SetDefault,
}

#[derive(Clone, Debug)]
pub struct RelationField {
    /// `@relation("Name")` or the generated name (`ModelAToModelB`, models in alphabetical order).
    pub relation_name: String,
    pub related: ModelId,
    /// The field on the related model that is the other side of this relation.
    pub back: Option<FieldId>,
    pub link: RelationLink,
    /// Effective referential actions of the relation (the same on both sides): written on the
    /// side holding the foreign key, or Prisma's defaults (onDelete: Restrict for required
    /// foreign keys, SetNull for optional ones; onUpdate: Cascade).
    pub on_delete: ReferentialAction,
    pub on_update: ReferentialAction,
    /// `@relation(map: "...")`: the foreign key constraint name (default `Model_field_fkey`).
    pub fk_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RelationLink {
    /// This model stores the foreign key: its `fields` reference `references` on the related model.
    ForeignKey { fields: Vec<FieldId>, references: Vec<FieldId> },
    /// The related model stores the foreign key: its `fields` reference `references` on this model.
    BackReference { fields: Vec<FieldId>, references: Vec<FieldId> },
    /// Implicit many-to-many through Prisma's join table `_RelationName` whose columns `A` and `B`
    /// reference the ids of the model that sorts first (by name; for a self-relation, by field
    /// name) and the other.
    JoinTable {
        table: String,
        /// The join table column that references this model.
        column: JoinColumn,
        /// This model's id field referenced by `column`.
        reference: FieldId,
        /// The related model's id field referenced by the other column.
        other_reference: FieldId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinColumn {
    A,
    B,
}

impl JoinColumn {
    pub fn name(self) -> &'static str {
        match self {
            JoinColumn::A => "A",
            JoinColumn::B => "B",
        }
    }

    pub fn other(self) -> JoinColumn {
        match self {
            JoinColumn::A => JoinColumn::B,
            JoinColumn::B => JoinColumn::A,
        }
    }
}

/// Which models are tenant-scoped, as declared (see `tenancy.rs`). Computed from the schema; acted
/// on only by the scope stage.
#[derive(Clone, Debug, Default)]
pub struct Tenancy {
    /// The tenant field's name (`tenantId` unless configured).
    pub field_name: String,
    /// The model the tenant field refers to through a relation (or declared `@quarry.tenant`).
    pub tenant_model: Option<ModelId>,
    /// One entry per model, indexed by [`ModelId`].
    pub models: Vec<ModelTenancy>,
    /// Per model: `@quarry.global(writable)` / `@quarry.shared(writable)`, tenants may write its
    /// global or shared rows.
    pub writable: Vec<bool>,
    /// Whether the schema or the client configured tenancy explicitly (a tenant field name or a
    /// declaration).
    pub declared: bool,
}

impl Tenancy {
    pub fn of(&self, model: ModelId) -> &ModelTenancy {
        &self.models[model.0 as usize]
    }

    /// Whether tenants may write the model's rows that belong to no tenant.
    pub fn writable(&self, model: ModelId) -> bool {
        self.writable.get(model.0 as usize).copied().unwrap_or(false)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ModelTenancy {
    /// No tenant field: not scoped.
    Unscoped,
    /// Has the tenant field. `shared` when the field is optional: rows with NULL are shared,
    /// readable under every tenant and writable under none.
    Scoped { field: FieldId, shared: bool },
    /// The tenant model itself: under a tenant, only the row whose `key` is the tenant id.
    Tenant { key: FieldId },
}
