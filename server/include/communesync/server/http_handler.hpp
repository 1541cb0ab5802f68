// Plain HTTP requests on the server's port: /healthz and (later) the admin API.
#pragma once

#include <boost/beast/http.hpp>

#include "communesync/storage/store.hpp"

namespace communesync::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

//! What request handlers may read and change. Owned by the Server; outlives every session.
struct ServerState {
  storage::Store& store;
};

//! Answers one HTTP request. Never throws; unknown paths get 404 with a JSON error body.
HttpResponse handleHttp(const HttpRequest& request, ServerState& state);

}  // namespace communesync::server
