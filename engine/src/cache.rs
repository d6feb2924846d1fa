//! The plan cache: a request shape is validated, planned, scoped and rendered once; later requests
//! of that shape bind their own values into the cached plan and skip every stage.
//!
//! A request's *shape* is its document with every string and number replaced by a class (`p` a
//! positive Int, `s` a non-empty string, `d` a date, ...), everything else kept as it is (keys and
//! their order, list lengths, `null`, booleans, `$type` tags), plus the kind of tenant context.
//! Which leaves may vary is not guessed from where they sit: the first request of a shape is
//! planned normally, then each leaf is *probed* — replaced by other values of its class (for
//! numbers also the class's extreme, which trips range checks such as `take`'s limit) and the
//! request planned again. A leaf is a parameter slot only when every probe gives the same plan
//! apart from parameters that are exactly the probe's value converted as the query stage
//! converts it; any other leaf is *fixed*: its exact value becomes part of the cache key. A
//! last probe changes every slot at once and must give exactly the plan the cached one
//! produces with those values, or the shape is not cached at all.
//!
//! Leaves that are equal — or could be read as equal: `1`, `1.0` and `"1"`, two spellings of
//! one date — may be planned differently from unequal ones (an upsert whose `where` and `create`
//! agree becomes one `INSERT … ON CONFLICT`), so which leaves are equal to which (and to the
//! tenant) is part of the shape, and leaves that are the same are probed together.
//!
//! The tenant is probed the same way: in a cached plan the tenant id is a parameter filled from
//! each request's own context (never from the key), or, where a plan depends on its value, part
//! of the key. The kind of context (a tenant, unscoped, none) is always part of the key, so a
//! plan made under a tenant never serves an unscoped request or one without a tenant; errors
//! are never cached, so a refused request is refused every time.
//!
//! Caches are bounded (least recently used out) and belong to one [`crate::Engine`], whose
//! schema and options every cached plan was made with.

use crate::error::Result;
use crate::exec::Bound;
use crate::plan::Plan;
use crate::scope::TenantContext;
use crate::sql::Param;
use crate::value::{Value, as_tagged, canonical_decimal, parse_datetime};
use base64::Engine as _;
use lru::LruCache;
use serde_json::Value as Json;
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many plans an engine keeps by default.
pub const DEFAULT_CAPACITY: usize = 512;

/// After this many plans made for one shape, a shape whose fixed leaves keep changing (a search
/// text, say) is planned without the cache: probing it again each time would cost more than
/// it saves.
const MAX_MISSES_WITHOUT_HITS: u64 = 16;

/// Requests with more strings and numbers than this (a `createMany` of many rows, a long `in`
/// list) are planned without the cache: probing them would cost more than planning.
const MAX_LEAVES: usize = 32;

/// A cached plan and what a request of its shape fills in.
#[derive(Debug)]
pub struct Template {
    pub plan: Plan,
    texts: Arc<Vec<String>>,
    params: Vec<Vec<Param>>,
    slots: Vec<Slot>,
}

/// A plan ready to run: the cached plan and this request's parameters.
#[derive(Clone, Debug)]
pub struct Instance {
    pub template: Arc<Template>,
    pub bound: Bound,
}

impl Instance {
    /// The plan with this request's parameters in place (for paths that need an owned plan).
    pub fn materialize(&self) -> Plan {
        let mut plan = self.template.plan.clone();
        for (stmt, params) in plan.statements_mut().into_iter().zip(&self.bound.params) {
            stmt.params.clone_from(params);
        }
        plan
    }
}

/// Where a slot's value comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    /// The n-th string or number of the request document.
    Leaf(usize),
    /// The request's tenant.
    Tenant,
}

/// How a leaf's JSON becomes the bound value (as the query stage converts it).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Conv {
    Str,
    Int,
    BigInt,
    Float,
    Decimal,
    DateTime,
    Bytes,
    /// The tenant context's value as it is.
    Same,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Slot {
    source: Source,
    conv: Conv,
    stmt: usize,
    param: usize,
    /// An element of a list parameter (`in`).
    elem: Option<usize>,
}

/// What the cache knows of a shape: which leaves are fixed (their values are part of the key).
#[derive(Debug)]
struct ShapeInfo {
    fixed: Vec<bool>,
    tenant_fixed: bool,
    cacheable: bool,
    misses: AtomicU64,
    hits: AtomicU64,
}

#[derive(Debug)]
struct Inner {
    shapes: LruCache<String, Arc<ShapeInfo>>,
    plans: LruCache<String, Arc<Template>>,
    handles: Handles,
}

/// The handles given out, the newest `capacity` of them: handle `id` sits at `id % capacity`.
struct Handles {
    slots: Vec<Option<(u32, Arc<Handle>)>>,
    next: u32,
}

impl std::fmt::Debug for Handles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} handles", self.next)
    }
}

/// A cached plan kept for a caller that sends only the next request's leaves
/// ([`PlanCache::by_handle`]), with what of the shape's key those leaves must match.
struct Handle {
    template: Arc<Template>,
    /// What the cache knew of the shape, under the shape's key, and the plan's key: the cache
    /// must still have both for the handle to serve.
    info: Arc<ShapeInfo>,
    shape: String,
    key: String,
    classes: Vec<char>,
    groups: Vec<usize>,
    /// Per leaf: its value when it is fixed (part of the plan's key).
    fixed: Vec<Option<Json>>,
    /// The tenant when the plan depends on it.
    tenant: Option<Value>,
}

/// A handle made for a request ([`PlanCache::get_or_plan_kept`]): its id, and which leaves are
/// fixed (a request with other values there needs another handle).
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    pub id: u32,
    pub fixed: Vec<u32>,
}

/// Counters, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub hits: u64,
    pub misses: u64,
    pub plans: usize,
}

#[derive(Debug)]
pub struct PlanCache {
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A request document taken apart: its shape key and its leaves, in document order.
struct Doc<'a> {
    shape: String,
    leaves: Vec<&'a Json>,
    /// For each leaf, the group of leaves that may be equal to it (see [`norm`]): the index of
    /// the group's first leaf, or `usize::MAX` for the tenant's group.
    groups: Vec<usize>,
}

const TENANT_GROUP: usize = usize::MAX;

impl<'a> Doc<'a> {
    /// The shape (the context's key, the skeleton, which leaves may equal which) and the leaves;
    /// `None` past [`MAX_LEAVES`] or [`MAX_NESTING`].
    fn new(request: &'a Json, ctx: &TenantContext, ctx_key: String) -> Option<Doc<'a>> {
        let mut doc = Doc { shape: ctx_key, leaves: Vec::new(), groups: Vec::new() };
        if !skeleton(request, &mut doc, false, 0) {
            return None;
        }
        doc.groups = groups(&doc.leaves, ctx);
        doc.shape.push('|');
        for (i, g) in doc.groups.iter().enumerate() {
            if *g == TENANT_GROUP {
                let _ = write!(doc.shape, "{i}=T;");
            } else if *g != i {
                let _ = write!(doc.shape, "{i}={g};");
            }
        }
        Some(doc)
    }
}

/// For each leaf, the group of leaves that may be equal to it (see [`norm`]): the index of the
/// group's first leaf, or [`TENANT_GROUP`] when it may equal the tenant.
fn groups(leaves: &[&Json], ctx: &TenantContext) -> Vec<usize> {
    let tenant = match ctx {
        TenantContext::Tenant(t) => Some(norm(&t.to_json())),
        _ => None,
    };
    // At most MAX_LEAVES of them: comparing each with those before is cheaper than hashing.
    let norms: Vec<String> = leaves.iter().map(|l| norm(l)).collect();
    let mut out: Vec<usize> = Vec::with_capacity(norms.len());
    for (i, n) in norms.iter().enumerate() {
        let g = if tenant.as_ref() == Some(n) { TENANT_GROUP } else { norms[..i].iter().position(|m| m == n).map_or(i, |j| out[j]) };
        out.push(g);
    }
    out
}

/// Whether two leaves are written alike (as [`plan_key`] writes fixed leaves): equal, and for
/// numbers of the same bits (`0.0` and `-0.0` are equal but written differently).
fn same_text(a: &Json, b: &Json) -> bool {
    a == b && a.as_f64().map(f64::to_bits) == b.as_f64().map(f64::to_bits)
}

/// Whether a string could read as a number or a date (they start with a digit, a sign or a
/// point): the others skip those parsers.
fn may_be_number_or_date(s: &str) -> bool {
    matches!(s.trim_start().as_bytes().first(), Some(b'0'..=b'9' | b'-' | b'+' | b'.'))
}

/// A leaf's value as far as equality goes, erring towards equal: a number and a string that reads
/// as that number, two spellings of one date or one decimal, give the same text.
fn norm(v: &Json) -> String {
    let number = |s: &str| s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| format!("n{f}"));
    match v {
        Json::Number(n) => n.as_f64().map(|f| format!("n{f}")).unwrap_or_else(|| format!("n{n}")),
        Json::String(s) if !may_be_number_or_date(s) => format!("s{s}"),
        Json::String(s) => number(s)
            .or_else(|| canonical_decimal(s).map(|d| format!("n{d}")))
            .or_else(|| parse_datetime(s).map(|d| format!("d{d}")))
            .unwrap_or_else(|| format!("s{s}")),
        other => format!("o{other}"),
    }
}

impl PlanCache {
    /// `None` when `capacity` is 0 (no cache).
    pub fn new(capacity: usize) -> Option<PlanCache> {
        let cap = NonZeroUsize::new(capacity)?;
        Some(PlanCache {
            inner: Mutex::new(Inner {
                shapes: LruCache::new(cap),
                plans: LruCache::new(cap),
                handles: Handles { slots: (0..capacity).map(|_| None).collect(), next: 0 },
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    pub fn stats(&self) -> Stats {
        let plans = self.inner.lock().map(|i| i.plans.len()).unwrap_or(0);
        Stats { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed), plans }
    }

    /// The plan of `request` under `ctx`: from the cache when its shape was seen, else made by
    /// `plan` (and, when the shape can be cached, probed and kept). `plan` is the uncached
    /// pipeline; its errors are returned as they are and never cached.
    pub fn get_or_plan(&self, request: &Json, ctx: &TenantContext, plan: impl Fn(&Json, &TenantContext) -> Result<Plan>) -> Result<Prepared> {
        self.get_or_plan_kept(request, ctx, &plan, None)
    }

    /// [`PlanCache::get_or_plan`], and with `keep` a handle for the cached plan this request's
    /// shape has, put there (see [`PlanCache::by_handle`]); none when the shape is not cached.
    pub fn get_or_plan_kept(
        &self,
        request: &Json,
        ctx: &TenantContext,
        plan: &dyn Fn(&Json, &TenantContext) -> Result<Plan>,
        keep: Option<&mut Option<Kept>>,
    ) -> Result<Prepared> {
        let Some(ctx_key) = context_key(ctx) else { return plan(request, ctx).map(Prepared::Plan) };
        let Some(doc) = Doc::new(request, ctx, ctx_key) else { return plan(request, ctx).map(Prepared::Plan) };
        let info = self.inner.lock().ok().and_then(|mut i| i.shapes.get(&doc.shape).cloned());
        if let Some(info) = &info {
            if !info.cacheable {
                return plan(request, ctx).map(Prepared::Plan);
            }
            let key = plan_key(&doc, info, ctx);
            let template = self.inner.lock().ok().and_then(|mut i| i.plans.get(&key).cloned());
            if let Some(t) = template
                && let Some(bound) = instantiate(&t, &doc.leaves, ctx)
            {
                self.hits.fetch_add(1, Ordering::Relaxed);
                info.hits.fetch_add(1, Ordering::Relaxed);
                if let Some(kept) = keep {
                    *kept = self.keep(&doc, info, key, &t, ctx);
                }
                return Ok(Prepared::Cached(Instance { template: t, bound }));
            }
        }
        // A miss: the plan this request runs is made the ordinary way, whatever follows.
        let made = plan(request, ctx)?;
        self.misses.fetch_add(1, Ordering::Relaxed);
        if let Some(info) = &info {
            let misses = info.misses.fetch_add(1, Ordering::Relaxed) + 1;
            if misses >= MAX_MISSES_WITHOUT_HITS && info.hits.load(Ordering::Relaxed) < misses {
                self.set_shape(&doc.shape, ShapeInfo { cacheable: false, ..shape_info(&doc, info.tenant_fixed) });
                return Ok(Prepared::Plan(made));
            }
        }
        match probe(request, ctx, &doc, &made, plan) {
            Some((template, fixed, tenant_fixed)) => {
                let info = ShapeInfo { fixed, tenant_fixed, cacheable: true, misses: AtomicU64::new(0), hits: AtomicU64::new(0) };
                let key = plan_key(&doc, &info, ctx);
                let old = self.inner.lock().ok().and_then(|mut i| i.shapes.get(&doc.shape).cloned());
                let (m, h) = old.map_or((1, 0), |o| (o.misses.load(Ordering::Relaxed).max(1), o.hits.load(Ordering::Relaxed)));
                info.misses.store(m, Ordering::Relaxed);
                info.hits.store(h, Ordering::Relaxed);
                let (template, info) = (Arc::new(template), Arc::new(info));
                if let Some(kept) = keep {
                    *kept = self.keep(&doc, &info, key.clone(), &template, ctx);
                }
                if let Ok(mut inner) = self.inner.lock() {
                    inner.shapes.put(doc.shape.clone(), info);
                    inner.plans.put(key, template);
                }
            }
            None => self.set_shape(&doc.shape, ShapeInfo { cacheable: false, ..shape_info(&doc, true) }),
        }
        Ok(Prepared::Plan(made))
    }

    /// A new handle for `template`, the cached plan of `doc`'s shape under `key`.
    fn keep(&self, doc: &Doc, info: &Arc<ShapeInfo>, key: String, template: &Arc<Template>, ctx: &TenantContext) -> Option<Kept> {
        let classes = doc.leaves.iter().map(|l| class(l)).collect::<Option<Vec<char>>>()?;
        let fixed: Vec<Option<Json>> = doc.leaves.iter().zip(&info.fixed).map(|(l, f)| f.then(|| (*l).clone())).collect();
        let tenant = match ctx {
            TenantContext::Tenant(v) if info.tenant_fixed => Some(v.clone()),
            _ => None,
        };
        let handle = Handle {
            template: Arc::clone(template),
            info: Arc::clone(info),
            shape: doc.shape.clone(),
            key,
            classes,
            groups: doc.groups.clone(),
            fixed,
            tenant,
        };
        let fixed = handle.fixed.iter().enumerate().filter_map(|(i, f)| f.as_ref().map(|_| i as u32)).collect();
        let mut inner = self.inner.lock().ok()?;
        // Ids are never reused: a caller's old id must never name another shape's handle.
        let handles = &mut inner.handles;
        let id = handles.next;
        handles.next = id.checked_add(1)?;
        let n = handles.slots.len();
        *handles.slots.get_mut(id as usize % n)? = Some((id, Arc::new(handle)));
        Some(Kept { id, fixed })
    }

    /// A request of a kept shape given by its handle: its strings and numbers in document order
    /// (`leaves`, as the shape numbers them) and its tenant context, the rest of the document
    /// being the handle's by the caller's word. The leaves must have the classes, equalities (to
    /// each other and to this tenant) and fixed values of the handle's shape, the context its
    /// kind, and the plan must still be the one the cache keeps for them; then the request's
    /// values (and its own tenant) are bound into it, exactly as [`PlanCache::get_or_plan`]
    /// would. `None` for anything else: the caller sends the whole document.
    pub fn by_handle(&self, id: u32, leaves: &[Json], ctx: &TenantContext) -> Option<Instance> {
        let handle = {
            let inner = self.inner.lock().ok()?;
            let slots = &inner.handles.slots;
            match slots.get(id as usize % slots.len().max(1))? {
                Some((i, h)) if *i == id => Arc::clone(h),
                _ => return None,
            }
        };
        // The context's key begins the shape's (the keys are prefix-free).
        if !handle.shape.starts_with(&context_key(ctx)?) || leaves.len() != handle.classes.len() {
            return None;
        }
        let leaves: Vec<&Json> = leaves.iter().collect();
        for ((leaf, c), fixed) in leaves.iter().zip(&handle.classes).zip(&handle.fixed) {
            if class(leaf) != Some(*c) || fixed.as_ref().is_some_and(|f| !same_text(f, leaf)) {
                return None;
            }
        }
        if groups(&leaves, ctx) != handle.groups {
            return None;
        }
        if let Some(t) = &handle.tenant
            && !matches!(ctx, TenantContext::Tenant(v) if v == t)
        {
            return None;
        }
        // What the cache knows of the shape, and the plan it keeps for these values, must still be
        // the handle's.
        {
            let mut inner = self.inner.lock().ok()?;
            if !inner.shapes.get(&handle.shape).is_some_and(|i| Arc::ptr_eq(i, &handle.info))
                || !inner.plans.get(&handle.key).is_some_and(|t| Arc::ptr_eq(t, &handle.template))
            {
                return None;
            }
        }
        let bound = instantiate(&handle.template, &leaves, ctx)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        handle.info.hits.fetch_add(1, Ordering::Relaxed);
        Some(Instance { template: Arc::clone(&handle.template), bound })
    }

    fn set_shape(&self, shape: &str, info: ShapeInfo) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.shapes.put(shape.to_owned(), Arc::new(info));
        }
    }
}

fn shape_info(doc: &Doc, tenant_fixed: bool) -> ShapeInfo {
    ShapeInfo {
        fixed: vec![true; doc.leaves.len()],
        tenant_fixed,
        cacheable: true,
        misses: AtomicU64::new(0),
        hits: AtomicU64::new(0),
    }
}

/// A plan from the cache or made for this request alone.
#[derive(Debug)]
pub enum Prepared {
    Plan(Plan),
    Cached(Instance),
}

/// The context's part of the key: its kind, and the class of the tenant's value. `None`: not
/// cached (a tenant value of a kind the cache does not probe).
fn context_key(ctx: &TenantContext) -> Option<String> {
    Some(match ctx {
        TenantContext::Missing => "M|".to_owned(),
        TenantContext::Unscoped => "U|".to_owned(),
        TenantContext::Tenant(Value::Int(_)) => "Ti|".to_owned(),
        TenantContext::Tenant(Value::BigInt(_)) => "Tb|".to_owned(),
        TenantContext::Tenant(Value::String(s)) if !s.is_empty() => "Ts|".to_owned(),
        TenantContext::Tenant(_) => return None,
    })
}

/// The class of a number or string leaf, written into the shape; `None` for other JSON.
fn class(v: &Json) -> Option<char> {
    Some(match v {
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(0), _, _) => 'z',
            (Some(i), _, _) if i > 0 && i <= i32::MAX as i64 => 'p',
            (Some(i), _, _) if i < 0 && i >= i32::MIN as i64 => 'm',
            (Some(i), _, _) if i > 0 => 'P',
            (Some(_), _, _) => 'M',
            (None, Some(_), _) => 'U',
            (None, None, Some(f)) if f > 0.0 => 'f',
            (None, None, Some(f)) if f < 0.0 => 'g',
            _ => 'Z',
        },
        Json::String(s) if s.is_empty() => 'e',
        Json::String(s) if may_be_number_or_date(s) && parse_datetime(s).is_some() => 'd',
        Json::String(_) => 's',
        _ => return None,
    })
}

/// Nesting past this is planned without the cache (the query stage refuses it with its own error;
/// the walks here must not recurse deeper than the stack allows).
const MAX_NESTING: usize = 64;

/// Writes the shape of `v` and collects its leaves. `tag`: `v` is a `$type` tag (kept as is).
/// False when `v` nests deeper than [`MAX_NESTING`].
fn skeleton<'a>(v: &'a Json, doc: &mut Doc<'a>, tag: bool, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    match v {
        Json::Null => doc.shape.push('n'),
        Json::Bool(true) => doc.shape.push('t'),
        Json::Bool(false) => doc.shape.push('f'),
        Json::String(s) if tag => {
            let _ = write!(doc.shape, "#{}:{s}", s.len());
        }
        Json::Number(_) | Json::String(_) => {
            doc.shape.push(class(v).unwrap_or('?'));
            doc.leaves.push(v);
        }
        Json::Array(items) => {
            doc.shape.push('[');
            for item in items {
                if !skeleton(item, doc, false, depth + 1) {
                    return false;
                }
                doc.shape.push(',');
            }
            doc.shape.push(']');
        }
        Json::Object(map) => {
            doc.shape.push('{');
            for (k, item) in map {
                let _ = write!(doc.shape, "{}:{k}=", k.len());
                if !skeleton(item, doc, k == crate::value::TYPE_KEY, depth + 1) {
                    return false;
                }
                doc.shape.push(',');
            }
            doc.shape.push('}');
        }
    }
    doc.leaves.len() <= MAX_LEAVES
}

/// The key of a plan: the shape, then the exact value of every fixed leaf (and of the tenant
/// when the plan depends on it).
fn plan_key(doc: &Doc, info: &ShapeInfo, ctx: &TenantContext) -> String {
    let mut key = doc.shape.clone();
    key.push('|');
    for (i, (leaf, fixed)) in doc.leaves.iter().zip(&info.fixed).enumerate() {
        if *fixed {
            let text = leaf.to_string();
            let _ = write!(key, "{i}:{}:{text}", text.len());
        }
    }
    if info.tenant_fixed
        && let TenantContext::Tenant(v) = ctx
    {
        let text = v.to_json().to_string();
        let _ = write!(key, "|T{}:{text}", text.len());
    }
    key
}

/// Rotates each letter and digit within its kind (`a`-`f` within themselves, so hexadecimal stays
/// hexadecimal): a different string of the same make.
fn rotate(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='8' => (c as u8 + 1) as char,
            '9' => '0',
            'a'..='e' | 'A'..='E' => (c as u8 + 1) as char,
            'f' => 'a',
            'F' => 'A',
            'g'..='y' | 'G'..='Y' => (c as u8 + 1) as char,
            'z' => 'g',
            'Z' => 'G',
            _ => c,
        })
        .collect()
}

/// Other values of a leaf's class: one near (`g` makes groups' values differ), and for numbers
/// the class's far end.
fn probes(v: &Json, g: usize) -> Vec<Json> {
    let g64 = g as i64;
    match (class(v), v) {
        (Some('p'), Json::Number(n)) => {
            let i = n.as_i64().unwrap_or(1);
            let near = if i == 100 + g64 { 50_100 + g64 } else { 100 + g64 };
            vec![Json::from(near), Json::from(if i == i32::MAX as i64 { i - 1 } else { i32::MAX as i64 })]
        }
        (Some('m'), Json::Number(n)) => {
            let i = n.as_i64().unwrap_or(-1);
            let near = if i == -100 - g64 { -50_100 - g64 } else { -100 - g64 };
            vec![Json::from(near), Json::from(if i == i32::MIN as i64 { i + 1 } else { i32::MIN as i64 })]
        }
        (Some('P'), Json::Number(n)) => {
            let i = n.as_i64().unwrap_or(i64::MAX);
            vec![Json::from(if i > i64::MAX - 1000 { i - 1 - g64 } else { i + 1 + g64 }), Json::from(if i == i64::MAX { i - 1000 } else { i64::MAX })]
        }
        (Some('M'), Json::Number(n)) => {
            let i = n.as_i64().unwrap_or(i64::MIN);
            vec![Json::from(if i < i64::MIN + 1000 { i + 1 + g64 } else { i - 1 - g64 }), Json::from(if i == i64::MIN { i + 1000 } else { i64::MIN })]
        }
        (Some('f'), Json::Number(n)) => {
            let f = n.as_f64().unwrap_or(1.0);
            let near = 0.5 + g as f64;
            vec![Json::from(if f == near { near + 0.25 } else { near }), Json::from(if f == 1e300 { 1e299 } else { 1e300 })]
        }
        (Some('g'), Json::Number(n)) => {
            let f = n.as_f64().unwrap_or(-1.0);
            let near = -0.5 - g as f64;
            vec![Json::from(if f == near { near - 0.25 } else { near }), Json::from(if f == -1e300 { -1e299 } else { -1e300 })]
        }
        (Some('d'), Json::String(s)) => {
            let other = format!("2001-02-{:02}T04:05:06.789Z", 1 + g % 28);
            let other = if parse_datetime(s) == parse_datetime(&other) { format!("2002-03-{:02}T05:06:07.891Z", 1 + g % 28) } else { other };
            vec![Json::String(other)]
        }
        (Some('s'), Json::String(s)) => {
            let mut r = s.clone();
            for _ in 0..=(g % 5) {
                r = rotate(&r);
            }
            // A string without letters or digits rotates to itself: append some.
            vec![Json::String(if r == *s { format!("{s}{g}") } else { r })]
        }
        _ => Vec::new(),
    }
}

/// Another tenant of the same kind.
fn tenant_probe(t: &Value) -> Option<Value> {
    Some(match t {
        Value::Int(i) => Value::Int(if *i == 7_000_001 { 7_000_002 } else { 7_000_001 }),
        Value::BigInt(i) => Value::BigInt(if *i == 7_000_001 { 7_000_002 } else { 7_000_001 }),
        Value::String(s) => {
            let r = rotate(s);
            Value::String(if r == *s { format!("{s}0") } else { r })
        }
        _ => return None,
    })
}

/// Replaces the `target`-th leaf of `v` (document order, as [`skeleton`] counts them).
fn replace_leaf(v: &mut Json, target: usize, with: &Json) -> bool {
    fn walk(v: &mut Json, n: &mut usize, target: usize, with: &Json, tag: bool) -> bool {
        match v {
            Json::String(_) if tag => false,
            Json::Number(_) | Json::String(_) => {
                if *n == target {
                    *v = with.clone();
                    return true;
                }
                *n += 1;
                false
            }
            Json::Array(items) => items.iter_mut().any(|i| walk(i, n, target, with, false)),
            Json::Object(map) => map.iter_mut().any(|(k, i)| walk(i, n, target, with, k == crate::value::TYPE_KEY)),
            _ => false,
        }
    }
    walk(v, &mut 0, target, with, false)
}

/// The value a leaf binds as, converted as the query stage converts it for a value of that kind;
/// `None` when it does not convert (the uncached path then gives the error).
fn convert(conv: Conv, v: &Json) -> Option<Value> {
    let text = |v: &Json| match (as_tagged(v), v) {
        (_, Json::String(s)) => Some(s.clone()),
        (None, Json::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match conv {
        Conv::Str => v.as_str().map(|s| Value::String(s.to_owned())),
        Conv::Int => v.as_i64().map(Value::Int),
        Conv::BigInt => match v {
            Json::String(s) => s.trim().parse().ok().map(Value::BigInt),
            Json::Number(n) => n.as_i64().map(Value::BigInt),
            _ => None,
        },
        Conv::Float => v.as_f64().filter(|_| v.is_number()).map(Value::Float),
        Conv::Decimal => text(v).as_deref().and_then(canonical_decimal).map(Value::Decimal),
        Conv::DateTime => v.as_str().and_then(parse_datetime).map(Value::DateTime),
        Conv::Bytes => v.as_str().and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok()).map(Value::Bytes),
        Conv::Same => None,
    }
}

fn conversions(v: &Value) -> &'static [Conv] {
    match v {
        Value::String(_) => &[Conv::Str],
        Value::Int(_) => &[Conv::Int],
        Value::BigInt(_) => &[Conv::BigInt],
        Value::Float(_) => &[Conv::Float],
        Value::Decimal(_) => &[Conv::Decimal],
        Value::DateTime(_) => &[Conv::DateTime],
        Value::Bytes(_) => &[Conv::Bytes],
        _ => &[],
    }
}

/// Each statement's parameters, in [`Plan::statements`] order.
fn params_of(plan: &Plan) -> Vec<Vec<Param>> {
    plan.statements().into_iter().map(|s| s.params.clone()).collect()
}

/// Where `probed` binds other values than `base`, given that the two plans are the same apart from
/// parameter values: `(stmt, param, elem, base value, probed value)`. `None` when they differ in
/// anything else.
fn differences(base: &Plan, probed: &Plan) -> Option<Vec<(usize, usize, Option<usize>, Value, Value)>> {
    let (a, b) = (params_of(base), params_of(probed));
    if a.len() != b.len() || a.iter().zip(&b).any(|(x, y)| x.len() != y.len()) {
        return None;
    }
    let mut out = Vec::new();
    for (s, (xs, ys)) in a.iter().zip(&b).enumerate() {
        for (k, (x, y)) in xs.iter().zip(ys).enumerate() {
            match (x, y) {
                (Param::Value(Value::List(l)), Param::Value(Value::List(m))) if l.len() == m.len() => {
                    for (e, (p, q)) in l.iter().zip(m).enumerate() {
                        if p != q {
                            out.push((s, k, Some(e), p.clone(), q.clone()));
                        }
                    }
                }
                (Param::Value(p), Param::Value(q)) if p != q => out.push((s, k, None, p.clone(), q.clone())),
                (p, q) if p != q => return None,
                _ => {}
            }
        }
    }
    // Everything but those parameters must be the same: put the base's values into the probed plan.
    let mut same = probed.clone();
    for (stmt, params) in same.statements_mut().into_iter().zip(a) {
        stmt.params = params;
    }
    (same == *base).then_some(out)
}

/// The slots one probe of a group shows: each difference must be the probe's value — the
/// tenant's (`tenant`: before and after) or the group's first leaf's, converted.
/// `None`: the group is not a slot.
fn slots_for(
    leaf: Option<(usize, &Json, &Json)>,
    tenant: Option<(&Value, &Value)>,
    diffs: &[(usize, usize, Option<usize>, Value, Value)],
) -> Option<Vec<Slot>> {
    if diffs.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for (stmt, param, elem, a, b) in diffs {
        let (stmt, param, elem) = (*stmt, *param, *elem);
        if let Some((t0, t1)) = tenant
            && t0 == a
            && t1 == b
        {
            out.push(Slot { source: Source::Tenant, conv: Conv::Same, stmt, param, elem });
            continue;
        }
        let (i, j0, j1) = leaf?;
        let conv = *conversions(a).iter().find(|c| convert(**c, j0).as_ref() == Some(a) && convert(**c, j1).as_ref() == Some(b))?;
        out.push(Slot { source: Source::Leaf(i), conv, stmt, param, elem });
    }
    Some(out)
}

/// Probes a newly planned request (see the module comment): the template, which leaves are
/// fixed, and whether the tenant is; `None` when the shape cannot be cached.
fn probe(
    request: &Json,
    ctx: &TenantContext,
    doc: &Doc,
    made: &Plan,
    plan: &dyn Fn(&Json, &TenantContext) -> Result<Plan>,
) -> Option<(Template, Vec<bool>, bool)> {
    let tenant = match ctx {
        TenantContext::Tenant(t) => Some(t),
        _ => None,
    };
    // The groups of equal leaves, by their first leaf (`TENANT_GROUP` for the tenant's).
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    if tenant.is_some() {
        groups.push((TENANT_GROUP, Vec::new()));
    }
    for (i, g) in doc.groups.iter().enumerate() {
        match groups.iter_mut().find(|(first, _)| first == g) {
            Some((_, members)) => members.push(i),
            None => groups.push((*g, vec![i])),
        }
    }
    let norms: Vec<String> = doc.leaves.iter().map(|l| norm(l)).chain(tenant.map(|t| norm(&t.to_json()))).collect();
    let mut slots: Vec<Slot> = Vec::new();
    let mut fixed = vec![true; doc.leaves.len()];
    let mut tenant_fixed = true;
    // Each slot group's first probe, for the last probe.
    let mut firsts: Vec<(Vec<usize>, Json, Option<Value>)> = Vec::new();
    for (n, (first, members)) in groups.iter().enumerate() {
        let with_tenant = *first == TENANT_GROUP;
        // Members that are equal only as read (`1` and `"1"`) stay fixed.
        if members.windows(2).any(|w| doc.leaves[w[0]] != doc.leaves[w[1]])
            || (with_tenant && members.first().is_some_and(|m| tenant.map(Value::to_json).as_ref() != Some(doc.leaves[*m])))
        {
            continue;
        }
        // The values to try: the tenant's kind decides for its group.
        let tries: Vec<(Json, Option<Value>)> = match (with_tenant, tenant) {
            (true, Some(t)) => match tenant_probe(t) {
                Some(t1) => vec![(t1.to_json(), Some(t1))],
                None => continue,
            },
            _ => probes(doc.leaves[members[0]], n).into_iter().map(|p| (p, None)).collect(),
        };
        if tries.is_empty() {
            continue;
        }
        let mut found: Option<Vec<Slot>> = None;
        let mut ok = true;
        for (p, t1) in &tries {
            // A probe must not make the group equal to another leaf.
            let pn = norm(p);
            let collides = norms.iter().enumerate().any(|(k, other)| {
                let in_group = if k < doc.leaves.len() { members.contains(&k) } else { with_tenant };
                !in_group && *other == pn
            });
            let mut changed = request.clone();
            for m in members {
                replace_leaf(&mut changed, *m, p);
            }
            let other_ctx = match t1 {
                Some(t1) => TenantContext::Tenant(t1.clone()),
                None => ctx.clone(),
            };
            let s = (!collides)
                .then(|| plan(&changed, &other_ctx).ok())
                .flatten()
                .and_then(|probed| differences(made, &probed))
                .and_then(|d| {
                    let leaf = members.first().map(|m| (*m, doc.leaves[*m], p));
                    let tenants = match (tenant, t1) {
                        (Some(t0), Some(t1)) => Some((t0, t1)),
                        _ => None,
                    };
                    slots_for(leaf, tenants, &d)
                });
            match (s, &found) {
                (Some(s), None) => found = Some(s),
                (Some(s), Some(f)) if s == *f => {}
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && let Some(s) = found {
            for m in members {
                fixed[*m] = false;
            }
            if with_tenant {
                tenant_fixed = false;
            }
            slots.extend(s);
            let (p, t1) = tries.into_iter().next()?;
            firsts.push((members.clone(), p, t1));
        }
    }
    // Two groups must not claim one parameter.
    for (n, a) in slots.iter().enumerate() {
        if slots[..n].iter().any(|b| (a.stmt, a.param, a.elem) == (b.stmt, b.param, b.elem)) {
            return None;
        }
    }
    let texts = made.statements().into_iter().map(|s| s.ast.to_string()).collect();
    let template = Template { plan: made.clone(), texts: Arc::new(texts), params: params_of(made), slots };

    // The last probe: every slot group changed at once gives the cached plan with those values,
    // and the same shape (no two groups made equal).
    let mut changed = request.clone();
    let mut other = ctx.clone();
    for (members, p, t1) in &firsts {
        for m in members {
            replace_leaf(&mut changed, *m, p);
        }
        if let Some(t1) = t1 {
            other = TenantContext::Tenant(t1.clone());
        }
    }
    let probed_doc = Doc::new(&changed, &other, String::new())?;
    let original_doc = Doc::new(request, ctx, String::new())?;
    if probed_doc.shape != original_doc.shape {
        return None;
    }
    let expected = plan(&changed, &other).ok()?;
    let bound = instantiate(&template, &probed_doc.leaves, &other)?;
    if params_of(&expected) != bound.params || differences(made, &expected).is_none() {
        return None;
    }
    Some((template, fixed, tenant_fixed))
}

/// This request's parameters for a cached plan; `None` when a value does not convert.
fn instantiate(t: &Template, leaves: &[&Json], ctx: &TenantContext) -> Option<Bound> {
    let mut params = t.params.clone();
    for slot in &t.slots {
        let value = match slot.source {
            Source::Leaf(i) => convert(slot.conv, leaves.get(i)?)?,
            Source::Tenant => match ctx {
                TenantContext::Tenant(v) => v.clone(),
                _ => return None,
            },
        };
        let target = params.get_mut(slot.stmt)?.get_mut(slot.param)?;
        match (slot.elem, target) {
            (None, Param::Value(v)) => *v = value,
            (Some(e), Param::Value(Value::List(items))) => *items.get_mut(e)? = value,
            _ => return None,
        }
    }
    Some(Bound { texts: Arc::clone(&t.texts), params })
}

#[cfg(test)]
mod tests {
    use crate::exec::Dialect;
    use crate::scope::TenantContext;
    use crate::value::Value;
    use crate::{Engine, EngineOptions};
    use serde_json::{Value as Json, json};

    const SCHEMA: &str = "model Tenant {\n id Int @id\n users User[]\n}\nmodel User {\n id Int @id\n tenantId Int\n tenant Tenant @relation(fields: [tenantId], references: [id])\n email String\n}\n";

    fn engine() -> Engine {
        Engine::new(SCHEMA, EngineOptions::default()).expect("schema")
    }

    #[test]
    fn a_shape_seen_before_is_served_from_the_cache() {
        let e = engine();
        let ctx = TenantContext::Tenant(Value::Int(1));
        let find = |id: i64| json!({"model": "User", "action": "findUnique", "args": {"where": {"id": id}}});
        let first = e.compile(&find(5), &ctx, Dialect::Postgres).expect("compiles");
        assert_eq!(e.cache_stats().misses, 1);
        let second = e.compile(&find(6), &ctx, Dialect::Postgres).expect("compiles");
        assert_eq!(e.cache_stats().hits, 1);
        assert_eq!(first["statements"][0]["sql"], second["statements"][0]["sql"]);
        assert_eq!(second["statements"][0]["params"], json!([6, 1]));
        let other = e.compile(&find(6), &TenantContext::Tenant(Value::Int(2)), Dialect::Postgres).expect("compiles");
        assert_eq!(other["statements"][0]["params"], json!([6, 2]));
        assert_eq!(e.cache_stats().hits, 2);
    }

    #[test]
    fn large_and_deep_requests_bypass_the_cache() {
        let e = engine();
        let ctx = TenantContext::Tenant(Value::Int(1));
        let ids: Vec<i64> = (1..=100).collect();
        let many = json!({"model": "User", "action": "findMany", "args": {"where": {"id": {"in": ids}}}});
        for _ in 0..2 {
            e.compile(&many, &ctx, Dialect::Postgres).expect("compiles");
        }
        let mut deep = json!({"id": 1});
        for _ in 0..100 {
            deep = json!({"AND": [deep]});
        }
        let deep = json!({"model": "User", "action": "findMany", "args": {"where": deep}});
        for _ in 0..2 {
            let _ = e.compile(&deep, &ctx, Dialect::Postgres);
        }
        assert_eq!(e.cache_stats(), super::Stats::default(), "nothing was planned through the cache");
    }

    #[test]
    fn errors_are_never_cached() {
        let e = engine();
        let doc: Json = json!({"model": "User", "action": "findMany", "args": {"where": {"email": "a"}}});
        for _ in 0..3 {
            let err = e.compile(&doc, &TenantContext::Missing, Dialect::Postgres).expect_err("no tenant");
            assert_eq!(err.code(), "Q3001");
        }
        assert_eq!(e.cache_stats().plans, 0);
    }
}
