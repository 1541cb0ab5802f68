// Where the server is and how to trust it: the URL forms the client accepts and its TLS settings.
#pragma once

#include <string>

#include "communesync/storage/result.hpp"

namespace communesync::client {

struct ServerAddress {
  bool tls = false;  //!< wss:// or https://
  std::string host;
  std::string port;
  std::string path;  //!< "/sync" unless the URL names another
};

//! Parses ws://, wss://, http:// or https:// HOST:PORT[/PATH] (a missing port: 80 or 443).
//! Errors: kInvalidArgument saying what is wrong.
Result<ServerAddress> parseServerUrl(const std::string& url);

//! How the client checks the server's certificate (wss, https). The certificate must chain to a
//! trusted CA and name the host; TLS 1.2 or newer.
struct TlsOptions {
  //! A PEM file of CA certificates to trust, e.g. the provincial CA of a self-signed deployment.
  //! Empty: the system's trusted CAs.
  std::string ca_file;
};

}  // namespace communesync::client
