// communesync-admin: the administrator's tool, over the server's HTTP admin API.
//
// communesync-admin --server http://HOST:PORT --token TOKEN user add NAME --scope UNIT [--scope UNIT...]
//   prints the new user's token alone on stdout. $COMMUNESYNC_SERVER and $COMMUNESYNC_TOKEN work too.
#include <CLI/CLI.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

struct HttpTarget {
  std::string host;
  std::string port;
};

std::optional<HttpTarget> parseHttpUrl(std::string url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  url = url.substr(scheme.size());
  url = url.substr(0, url.find('/'));
  auto colon = url.rfind(':');
  if (colon == std::string::npos) return HttpTarget{url, "80"};
  return HttpTarget{url.substr(0, colon), url.substr(colon + 1)};
}

// One request; returns (status, body) or throws beast::system_error (caught in main).
std::pair<unsigned, std::string> request(const HttpTarget& target, http::verb verb, const std::string& path,
                                         const std::string& token, const std::string& body) {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(resolver.resolve(target.host, target.port));
  http::request<http::string_body> req{verb, path, 11};
  req.set(http::field::host, target.host);
  req.set(http::field::authorization, "Bearer " + token);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return {res.result_int(), res.body()};
}

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"communesync-admin: manage users of a communesync server"};
  app.require_subcommand(1);
  std::string server = envOr("COMMUNESYNC_SERVER", "");
  std::string token = envOr("COMMUNESYNC_TOKEN", "");
  app.add_option("--server", server, "http://HOST:PORT of the server ($COMMUNESYNC_SERVER)");
  app.add_option("--token", token, "the admin token, from <data>/admin.token ($COMMUNESYNC_TOKEN)");

  auto* user = app.add_subcommand("user", "users")->require_subcommand(1);
  auto* add = user->add_subcommand("add", "create a user; prints the user's token");
  std::string name;
  std::vector<std::string> scopes;
  add->add_option("name", name, "the user's name")->required();
  add->add_option("--scope", scopes, "a unit code the user may read and write (repeat for several)")->required();

  CLI11_PARSE(app, argc, argv);
  if (server.empty()) {
    std::cerr << "communesync-admin: give --server http://HOST:PORT (or set COMMUNESYNC_SERVER)\n";
    return 2;
  }
  if (token.empty()) {
    std::cerr << "communesync-admin: give --token (or set COMMUNESYNC_TOKEN); it is in <data>/admin.token\n";
    return 2;
  }
  auto target = parseHttpUrl(server);
  if (!target) {
    std::cerr << "communesync-admin: --server must look like http://HOST:PORT (got '" << server << "')\n";
    return 2;
  }

  try {
    if (*add) {
      auto [status, body] =
          request(*target, http::verb::post, "/admin/users", token, json{{"name", name}, {"scopes", scopes}}.dump());
      json j = json::parse(body, nullptr, false);
      if (status != 201 || j.is_discarded() || !j.contains("token")) {
        std::string message = (!j.is_discarded() && j.contains("message")) ? j["message"].get<std::string>() : body;
        std::cerr << "communesync-admin: the server refused (HTTP " << status << "): " << message << "\n";
        return 1;
      }
      std::cout << j["token"].get<std::string>() << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "communesync-admin: cannot reach " << server << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
