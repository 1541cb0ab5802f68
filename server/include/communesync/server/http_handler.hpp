// Plain HTTP requests on the server's port: /healthz and the admin API.
//
//   GET  /healthz                  -> 200 {"status":"ok","incarnation":ID,"last_seq":N}
//   POST /admin/users              -> 201 {"name":..,"scopes":[..],"token":..}   (admin token)
//        body {"name": NAME, "scopes": [UNIT, ...]}
#pragma once

#include <boost/beast/http.hpp>

#include "communesync/server/server_store.hpp"
#include "communesync/storage/store.hpp"

namespace communesync::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

//! What request handlers may read and change. Owned by the Server; outlives every session.
struct ServerState {
  storage::Store& store;
  ServerStore& data;
};

//! The bearer token of an Authorization header ("Bearer TOKEN"), or empty.
std::string_view bearerToken(const HttpRequest& request);

//! Answers one HTTP request. Never throws; unknown paths get 404 with a JSON error body.
HttpResponse handleHttp(const HttpRequest& request, ServerState& state);

}  // namespace communesync::server
