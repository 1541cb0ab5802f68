// The body of every HTTP answer: text held in memory (what nearly every answer is), or a file the
// answer was written into first (an export of a whole province), sent from the file a piece at a
// time, so the server holds a few kilobytes of it whatever its size. Beast's file_body would do for
// the file alone, but every handler and test reads and writes its answer as a string: a body that
// is a string and may carry a file keeps them all as they are.
#pragma once

#include <boost/beast/core/file.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace communesync::server {

struct DownloadBody {
  //! The text; or, when `file` is set, the text is empty and the answer is the file's bytes.
  class value_type : public std::string {  // NOLINT(readability-identifier-naming): Beast's Body concept
   public:
    using std::string::string;
    using std::string::operator=;
    value_type() = default;
    value_type(std::string s) : std::string(std::move(s)) {}  // NOLINT(google-explicit-constructor): a body is its text

    std::shared_ptr<boost::beast::file> file;  //!< open for reading, positioned anywhere
    std::uint64_t file_size = 0;
  };

  static std::uint64_t size(const value_type& body) { return body.file ? body.file_size : body.size(); }

  class writer {  // NOLINT(readability-identifier-naming): Beast's Body concept
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>& /*header*/, const value_type& body) : body_(body) {}

    void init(boost::beast::error_code& ec) {
      ec = {};
      if (body_.file) {
        left_ = body_.file_size;
        body_.file->seek(0, ec);
      }
    }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      if (!body_.file) {
        if (sent_ || body_.empty()) return boost::none;
        sent_ = true;
        return {{const_buffers_type(body_.data(), body_.size()), false}};
      }
      if (left_ == 0) return boost::none;
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left_, piece_.size()));
      const auto got = body_.file->read(piece_.data(), want, ec);
      if (ec) return boost::none;
      if (got == 0) {
        ec = boost::beast::http::error::short_read;  // the file shrank under us
        return boost::none;
      }
      left_ -= got;
      return {{const_buffers_type(piece_.data(), got), left_ > 0}};
    }

   private:
    const value_type& body_;
    bool sent_ = false;
    std::uint64_t left_ = 0;
    std::array<char, std::size_t{64} * 1024> piece_{};
  };
};

}  // namespace communesync::server
