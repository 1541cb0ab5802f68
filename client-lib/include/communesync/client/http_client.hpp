// One HTTP(S) request to the server (login, admin tools). Blocking, with the client's timeouts;
// certificates are checked as for wss (TlsOptions).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "communesync/client/server_address.hpp"

namespace communesync::client {

struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::string retry_after;  //!< the Retry-After header (seconds) of a 429 or 503, or empty
};

//! Sends `method` `path` to the server at `url` (http(s):// or ws(s)://, same host and port) with
//! an optional bearer token and body. Errors: kInvalidArgument (bad URL, CA file), kUnavailable
//! (cannot connect, TLS refused, no answer). An HTTP error status is a reply, not an error.
Result<HttpReply> httpRequest(const std::string& url, const std::string& method, const std::string& path,
                              const std::string& bearer, const std::string& content_type, const std::string& body,
                              const TlsOptions& tls = {});

//! A GET whose answer may be of any size (an export of a whole province): a 200 answer's body is
//! handed to `sink` a piece at a time as it arrives (return false to stop: kCancelled), and the
//! reply's body is left empty; any other answer is returned whole, like httpRequest's.
Result<HttpReply> httpDownload(const std::string& url, const std::string& path, const std::string& bearer,
                               const std::function<bool(std::string_view)>& sink, const TlsOptions& tls = {});

}  // namespace communesync::client
