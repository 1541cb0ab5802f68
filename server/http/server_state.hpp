// What every HTTP handler may read and change (ServerState), and the request and response types.
// Owned by the Server; outlives every session. The routes themselves are in http/routes.cpp.
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "base/address_set.hpp"
#include "base/places.hpp"
#include "base/tuning.hpp"
#include "communesync/storage/store.hpp"
#include "directory/directory.hpp"
#include "http/download_body.hpp"
#include "store/backup.hpp"
#include "store/form_catalog.hpp"
#include "store/server_store.hpp"

namespace communesync::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<DownloadBody>;

//! What request handlers may read and change. Owned by the Server; outlives every session.
class WebFiles;

struct ServerState {
  storage::Store& store;
  ServerStore& data;
  Directory& directory;
  //! Called after any change to users, grants, tokens or units: live sessions re-check their rights.
  std::function<void()> access_changed;
  //! The published forms.
  FormCatalog& forms;
  //! Publishes a form as the next version of its name; returns it with its version. Blocks until durable.
  std::function<Result<sync::Form>(sync::Form)> publish_form;
  //! Applies a job the server made (a conflict's resolution) through the writer, like any push.
  //! Blocks until it is durable; the job's results say what became of its changes.
  std::function<Status(std::shared_ptr<PushJob>)> apply_job;
  //! Answer the admin API to peers other than loopback.
  bool admin_remote = false;
  //! Browser origins allowed (exact "scheme://host[:port]"); a request with an Origin header not
  //! listed is refused. Requests without Origin (devices, tools) are not browsers and pass.
  std::vector<std::string> allowed_origins;
  //! The config's "report_rules" (report_rules.hpp): per-year overrides of the programme's targets.
  nlohmann::json report_rules;
  //! The dashboard's files, served at "/" (null: not installed; "/" then says so).
  std::shared_ptr<const WebFiles> web;
  //! A device silent for longer stands out on the dashboard's devices page.
  int device_silent_days = tuning::kDeviceSilentDays;
  //! GET /app/settings.json: {"photo_max_px", "photo_quality"} (config "field_app").
  nlohmann::json field_app = nlohmann::json::object();
  //! Heavy requests running, per user (router.hpp: Route::heavy).
  std::shared_ptr<Places> heavy_requests = std::make_shared<Places>(tuning::kMaxHeavyRequestsPerUser);
  //! Who may read GET /metrics without a token (config "metrics_from"); with the admin token anyone may.
  AddressSet metrics_from{};
  //! Online backups waiting to be fetched (store/backup.hpp).
  std::shared_ptr<Backups> backups{};
  //! Sync sessions open now (for /metrics).
  std::function<std::size_t()> sessions_open{};
};

}  // namespace communesync::server
