//! Named tuples made from Rust. The exchange's reports and the mirror's order events are
//! instances of Python `NamedTuple` classes, one per event on the order path: each is made
//! here without an argument tuple and a call through Python per value.

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

/// A Python tuple subclass that adds no fields (a `NamedTuple`), to make instances of.
pub(crate) struct NamedTuple {
    class: Py<PyType>,
    /// `tuple.__new__`, for Pythons where `make` must not fill a tuple itself: from 3.14 a
    /// tuple caches its hash in the object, which only `tuple.__new__` initialises.
    tuple_new: Option<Py<PyAny>>,
}

impl NamedTuple {
    /// `class`, refused (`TypeError`, naming it as `what`) unless it is a tuple subclass.
    pub(crate) fn new(class: &Bound<'_, PyType>, what: &str) -> PyResult<NamedTuple> {
        if !class.is_subclass_of::<PyTuple>()? {
            return Err(PyTypeError::new_err(format!("{what} is not a tuple")));
        }
        let py = class.py();
        let tuple_new = if py.version_info() >= (3, 14) {
            Some(py.get_type::<PyTuple>().getattr("__new__")?.unbind())
        } else {
            None
        };
        Ok(NamedTuple {
            class: class.clone().unbind(),
            tuple_new,
        })
    }

    /// An instance holding `items`: exactly what `tuple.__new__(class, items)` makes.
    pub(crate) fn make<'py, const N: usize>(
        &self,
        py: Python<'py>,
        items: [Bound<'py, PyAny>; N],
    ) -> PyResult<Bound<'py, PyAny>> {
        let class = self.class.bind(py);
        if let Some(tuple_new) = &self.tuple_new {
            return tuple_new.bind(py).call1((class, PyTuple::new(py, items)?));
        }
        let size = ffi::Py_ssize_t::try_from(N).expect("a small tuple");
        // SAFETY: `class` is a tuple subclass (`new` checks), so its `tp_alloc` makes a
        // tuple of `N` empty slots, as `tuple.__new__` does (before 3.14, a tuple holds
        // nothing else). Each slot is filled once, taking over one reference, before the
        // object is seen by anything else; no Python code runs in between.
        unsafe {
            let class = class.as_type_ptr();
            let alloc = (*class).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
            let tuple = Bound::from_owned_ptr_or_err(py, alloc(class, size))?;
            for (i, item) in (0..size).zip(items) {
                ffi::PyTuple_SET_ITEM(tuple.as_ptr(), i, item.into_ptr());
            }
            Ok(tuple)
        }
    }

    /// An instance holding the integers `items`.
    pub(crate) fn make_ints<'py, const N: usize>(
        &self,
        py: Python<'py>,
        items: [i64; N],
    ) -> PyResult<Bound<'py, PyAny>> {
        let items = items.map(|item| match item.into_pyobject(py) {
            Ok(int) => int.into_any(),
            Err(never) => match never {},
        });
        self.make(py, items)
    }
}
