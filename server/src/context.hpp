// What every session of one server shares. Owned by Server; outlives every session.
#pragma once

#include "communesync/server/http_handler.hpp"
#include "hub.hpp"
#include "writer.hpp"

namespace communesync::server {

struct ServerContext {
  ServerState& state;
  Writer& writer;
  Hub& hub;
};

}  // namespace communesync::server
