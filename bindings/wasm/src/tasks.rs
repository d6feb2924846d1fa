//! A minimal executor whose polls JavaScript drives: each asynchronous call is a task with an id;
//! when a task can make progress its waker asks the host to poll it (`wake(id)`), and the host
//! calls [`poll`] from code that catches exceptions. A panic therefore traps inside a call the
//! host made and can be reported to the caller, never inside a microtask nobody catches.
//!
//! Also the host's timer ([`sleep`]) and the panic hook.

use js_sys::{Array, Function, Promise};
use serde_json::Value as Json;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

type TaskFuture = Pin<Box<dyn Future<Output = Result<Json, quarry_engine::Error>>>>;

struct Hooks {
    wake: Function,
    panic: Function,
}

thread_local! {
    static HOOKS: RefCell<Option<Hooks>> = const { RefCell::new(None) };
    static TASKS: RefCell<HashMap<u32, TaskFuture>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u32> = const { Cell::new(1) };
}

pub fn install(wake: Function, panic: Function) {
    HOOKS.with(|h| *h.borrow_mut() = Some(Hooks { wake, panic }));
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        HOOKS.with(|h| {
            if let Ok(hooks) = h.try_borrow()
                && let Some(hooks) = hooks.as_ref()
            {
                let _ = hooks.panic.call1(&JsValue::NULL, &JsValue::from_str(&message));
            }
        });
    }));
}

struct TaskWaker(u32);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        HOOKS.with(|h| {
            if let Some(hooks) = h.borrow().as_ref() {
                let _ = hooks.wake.call1(&JsValue::NULL, &JsValue::from(self.0));
            }
        });
    }
}

/// Registers a task; the host polls it first.
pub fn spawn(future: impl Future<Output = Result<Json, quarry_engine::Error>> + 'static) -> u32 {
    let id = NEXT.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1).max(1));
        id
    });
    TASKS.with(|t| t.borrow_mut().insert(id, Box::pin(future)));
    id
}

/// `undefined` while the task runs (or when it is unknown), `[true, json]` or
/// `[false, errorJson]` once it has finished.
pub fn poll(id: u32) -> JsValue {
    // The future leaves the table while it runs, so a task it wakes re-entrantly finds no borrow.
    let Some(mut future) = TASKS.with(|t| t.borrow_mut().remove(&id)) else { return JsValue::UNDEFINED };
    let waker = Waker::from(Arc::new(TaskWaker(id)));
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Pending => {
            TASKS.with(|t| t.borrow_mut().insert(id, future));
            JsValue::UNDEFINED
        }
        Poll::Ready(outcome) => {
            let (ok, text) = match outcome {
                Ok(v) => (true, v.to_string()),
                Err(e) => (false, crate::error_text(&e)),
            };
            Array::of2(&JsValue::from_bool(ok), &JsValue::from_str(&text)).into()
        }
    }
}

pub fn cancel(id: u32) {
    let dropped = TASKS.with(|t| t.borrow_mut().remove(&id));
    drop(dropped);
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// Resolves after `ms` milliseconds; dropping it clears the timer, so a finished wait does not
/// keep the host's event loop alive.
pub struct Sleep {
    handle: JsValue,
    future: JsFuture,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.future).poll(cx).map(|_| ())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

pub fn sleep(ms: u64) -> Sleep {
    let mut handle = JsValue::UNDEFINED;
    let promise = Promise::new(&mut |resolve, _reject| {
        handle = set_timeout(&resolve, ms as f64);
    });
    Sleep { handle, future: JsFuture::from(promise) }
}
