//! `encode_stream_response`: a whole `tradepit.v1.OrderStreamResponse` encoded straight from
//! the exchange's `ExecutionReport` tuples, without building protobuf messages in Python.
//!
//! The bytes are exactly what `OrderStreamResponse(reports=[convert.report(r) ...])
//! .SerializeToString()` gives (tests/server/test_wire.py compares them).

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::protowire::{put_enum, put_int64, put_length_delimited, put_string};

/// `OrderStreamResponse.reports`.
const REPORTS_FIELD: u32 = 1;

/// A `tradepit.v1.ExecutionReport` (proto/tradepit/v1/common.proto): the tuple's fields
/// minus `account_id`, with a missing liquidity or reject reason as 0.
#[derive(Debug, Default)]
pub(crate) struct ExecutionReport<'a> {
    pub sequence: i64,
    pub order_id: i64,
    pub client_order_id: &'a str,
    pub symbol: &'a str,
    pub exec_type: i32,
    pub order_status: i32,
    pub side: i32,
    pub price: i64,
    pub quantity: i64,
    pub last_quantity: i64,
    pub last_price: i64,
    pub cumulative_quantity: i64,
    pub leaves_quantity: i64,
    pub average_price: &'a str,
    pub fee: i64,
    pub liquidity: i32,
    pub trade_id: i64,
    pub reject_reason: i32,
    pub reject_message: &'a str,
    pub timestamp_ns: i64,
}

impl ExecutionReport<'_> {
    /// Appends the message's fields in field-number order (`quantity` is 20, the last).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_int64(out, 1, self.sequence);
        put_int64(out, 2, self.order_id);
        put_string(out, 3, self.client_order_id);
        put_string(out, 4, self.symbol);
        put_enum(out, 5, self.exec_type);
        put_enum(out, 6, self.order_status);
        put_enum(out, 7, self.side);
        put_int64(out, 8, self.price);
        put_int64(out, 9, self.last_quantity);
        put_int64(out, 10, self.last_price);
        put_int64(out, 11, self.cumulative_quantity);
        put_int64(out, 12, self.leaves_quantity);
        put_string(out, 13, self.average_price);
        put_int64(out, 14, self.fee);
        put_enum(out, 15, self.liquidity);
        put_int64(out, 16, self.trade_id);
        put_enum(out, 17, self.reject_reason);
        put_string(out, 18, self.reject_message);
        put_int64(out, 19, self.timestamp_ns);
        put_int64(out, 20, self.quantity);
    }
}

/// An `OrderStreamResponse` built one report at a time.
pub(crate) struct StreamResponse {
    out: Vec<u8>,
    /// One report's encoding, reused: its length must precede it in `out`.
    message: Vec<u8>,
}

impl StreamResponse {
    pub(crate) fn with_capacity(reports: usize) -> Self {
        StreamResponse {
            out: Vec::with_capacity(reports * 96),
            message: Vec::with_capacity(256),
        }
    }

    pub(crate) fn push(&mut self, report: &ExecutionReport<'_>) {
        self.message.clear();
        report.encode(&mut self.message);
        put_length_delimited(&mut self.out, REPORTS_FIELD, &self.message);
    }

    /// Adds a report that is already an encoded `ExecutionReport`.
    pub(crate) fn push_encoded(&mut self, message: &[u8]) {
        put_length_delimited(&mut self.out, REPORTS_FIELD, message);
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.out
    }
}

/// The fields of `tradepit.exchange.model.ExecutionReport`, in its order.
const TUPLE_FIELDS: [&str; 21] = [
    "account_id",
    "sequence",
    "order_id",
    "client_order_id",
    "symbol",
    "exec_type",
    "order_status",
    "side",
    "price",
    "quantity",
    "last_quantity",
    "last_price",
    "cumulative_quantity",
    "leaves_quantity",
    "average_price",
    "fee",
    "liquidity",
    "trade_id",
    "reject_reason",
    "reject_message",
    "timestamp_ns",
];

/// Field `index` of the tuple; an error names the field in a note.
fn field<'a, 'py, T>(tuple: &'a Bound<'py, PyTuple>, index: usize) -> PyResult<T>
where
    T: FromPyObject<'a, 'py>,
    T::Error: Into<PyErr>,
{
    tuple
        .get_borrowed_item(index)?
        .extract::<T>()
        .map_err(|error| {
            let error: PyErr = error.into();
            let note = format!("in field ExecutionReport.{}", TUPLE_FIELDS[index]);
            match error.add_note(tuple.py(), note) {
                Ok(()) => error,
                Err(failed) => failed,
            }
        })
}

/// Field `index`, an optional enum: None is 0.
fn optional_enum(tuple: &Bound<'_, PyTuple>, index: usize) -> PyResult<i32> {
    if tuple.get_borrowed_item(index)?.is_none() {
        Ok(0)
    } else {
        field(tuple, index)
    }
}

fn extract_report<'a>(tuple: &'a Bound<'_, PyTuple>) -> PyResult<ExecutionReport<'a>> {
    if tuple.len() != TUPLE_FIELDS.len() {
        return Err(PyTypeError::new_err(format!(
            "an ExecutionReport has {} fields, got a tuple of {}",
            TUPLE_FIELDS.len(),
            tuple.len()
        )));
    }
    Ok(ExecutionReport {
        sequence: field(tuple, 1)?,
        order_id: field(tuple, 2)?,
        client_order_id: field(tuple, 3)?,
        symbol: field(tuple, 4)?,
        exec_type: field(tuple, 5)?,
        order_status: field(tuple, 6)?,
        side: field(tuple, 7)?,
        price: field(tuple, 8)?,
        quantity: field(tuple, 9)?,
        last_quantity: field(tuple, 10)?,
        last_price: field(tuple, 11)?,
        cumulative_quantity: field(tuple, 12)?,
        leaves_quantity: field(tuple, 13)?,
        average_price: field(tuple, 14)?,
        fee: field(tuple, 15)?,
        liquidity: optional_enum(tuple, 16)?,
        trade_id: field(tuple, 17)?,
        reject_reason: optional_enum(tuple, 18)?,
        reject_message: field(tuple, 19)?,
        timestamp_ns: field(tuple, 20)?,
    })
}

/// The encoded `OrderStreamResponse` carrying `reports` in order. Each is an
/// `ExecutionReport` tuple, the bytes of an encoded `tradepit.v1.ExecutionReport`, or a
/// message whose `SerializeToString()` gives those bytes (a protobuf refusal).
#[pyfunction]
pub(crate) fn encode_stream_response<'py>(
    reports: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = reports.py();
    let mut response = StreamResponse::with_capacity(reports.len().unwrap_or(0));
    for item in reports.try_iter()? {
        let item = item?;
        if let Ok(tuple) = item.cast::<PyTuple>() {
            response.push(&extract_report(tuple)?);
        } else if let Ok(encoded) = item.cast::<PyBytes>() {
            response.push_encoded(encoded.as_bytes());
        } else if let Ok(serialize) = item.getattr(intern!(py, "SerializeToString")) {
            response.push_encoded(serialize.call0()?.cast::<PyBytes>()?.as_bytes());
        } else {
            return Err(PyTypeError::new_err(format!(
                "a report is an ExecutionReport tuple, bytes or a message, not {}",
                item.get_type().name()?
            )));
        }
    }
    Ok(PyBytes::new(py, response.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_at_its_defaults_is_an_empty_message_but_still_an_entry() {
        let mut response = StreamResponse::with_capacity(1);
        response.push(&ExecutionReport::default());
        assert_eq!(response.as_bytes(), [0x0a, 0x00]);
    }

    #[test]
    fn fields_follow_field_number_order_with_quantity_last() {
        let report = ExecutionReport {
            sequence: 1,
            symbol: "AB",
            exec_type: 2,
            price: -3,
            quantity: 4,
            ..ExecutionReport::default()
        };
        let mut message = Vec::new();
        report.encode(&mut message);
        let mut expected = vec![0x08, 0x01, 0x22, 0x02, b'A', b'B', 0x28, 0x02, 0x40];
        expected.extend([0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        expected.extend([0xa0, 0x01, 0x04]);
        assert_eq!(message, expected);
    }

    #[test]
    fn encoded_reports_are_wrapped_as_they_are() {
        let mut response = StreamResponse::with_capacity(2);
        response.push_encoded(&[0x08, 0x07]);
        response.push(&ExecutionReport {
            order_id: 1,
            ..ExecutionReport::default()
        });
        assert_eq!(
            response.as_bytes(),
            [0x0a, 0x02, 0x08, 0x07, 0x0a, 0x02, 0x10, 0x01]
        );
    }
}
