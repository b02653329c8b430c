//! Response bodies: whole JSON documents, `metav1.Status` errors, and watch streams.

use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use kubesim_model::ApiError;
use std::convert::Infallible;

/// The body type of every response.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A JSON response with `code`.
pub fn json<T: serde::Serialize + ?Sized>(code: u16, value: &T) -> Response<Body> {
    let bytes = serde_json::to_vec(value).expect("invariant: JSON values serialize");
    Response::builder()
        .status(StatusCode::from_u16(code).expect("invariant: codes we answer are valid"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(bytes)).boxed_unsync())
        .expect("invariant: response parts are valid")
}

/// A `metav1.Status` error response.
pub fn error(e: &ApiError) -> Response<Body> {
    json(e.code(), &e.to_status())
}

/// A streamed response (watch): `200 OK`, chunked, one JSON document per line, from `lines`.
pub fn stream(lines: tokio::sync::mpsc::Receiver<Bytes>) -> Response<Body> {
    let frames = futures::stream::unfold(lines, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(hyper::body::Frame::data(b)), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(StreamBody::new(frames).boxed_unsync())
        .expect("invariant: response parts are valid")
}
