//! The GraphiQL page at `GET /graphql` and its files, all served by Hearth (no CDN), each
//! loaded by the page with subresource integrity.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use sha2::Digest as _;

const TEMPLATE: &str = include_str!("../../assets/graphiql.html");

/// The files under `/graphql/assets/`: name, content type, bytes.
const ASSETS: [(&str, &str, &[u8]); 5] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "start.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/start.js"),
    ),
];

fn integrity(name: &str) -> String {
    let bytes = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or(&[][..], |(_, _, b)| b);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes))
    )
}

/// The page's HTML, with every file's integrity filled in (built once per server).
pub(super) fn html() -> String {
    TEMPLATE
        .replace("$css", &integrity("graphiql.min.css"))
        .replace("$react_dom", &integrity("react-dom.production.min.js"))
        .replace("$react", &integrity("react.production.min.js"))
        .replace("$graphiql", &integrity("graphiql.min.js"))
        .replace("$start", &integrity("start.js"))
}

/// `GET /graphql` from a browser.
pub(super) fn page(html: &str) -> Html<String> {
    Html(html.to_owned())
}

/// `GET /graphql/assets/{name}`.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *bytes,
        )
            .into_response(),
        None => crate::http::error::ApiError::for_status(StatusCode::NOT_FOUND).into_response(),
    }
}
