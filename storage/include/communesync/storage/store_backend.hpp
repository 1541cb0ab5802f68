// What a store backend implements besides Store's virtual functions: its cursors and snapshots,
// and the identity every store keeps (format version, incarnation id). For storage's own backends
// (rocks_store.cpp, postgres_store.cpp); nothing above storage/ includes it.
#pragma once

#include <string>
#include <string_view>

#include "communesync/storage/store.hpp"

namespace communesync::storage {

struct Snapshot::Impl {
  virtual ~Impl() = default;
};

struct Cursor::Impl {
  virtual ~Impl() = default;
  virtual bool valid() const = 0;
  virtual void next() = 0;
  virtual void seek(std::string_view key) = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

struct StoreLock::Impl {
  virtual ~Impl() = default;
};

//! meta: the store's incarnation id and its format version (decimal text).
inline constexpr std::string_view kIncarnationKey = "incarnation";
inline constexpr std::string_view kFormatKey = "format_version";

//! Checks a stored format version against what this build reads; `where` names the store.
Status checkFormat(std::string_view stored, const std::string& where);

//! `bytes` random bytes as lowercase hex (a new incarnation id).
std::string randomHex(std::size_t bytes);

}  // namespace communesync::storage
