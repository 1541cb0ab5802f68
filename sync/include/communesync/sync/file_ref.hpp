// Files (photos, scanned plans) are named by their content: the SHA-256 of their bytes. A record
// refers to a file with a field value that is that hash written as 64 lowercase hex digits (the
// forms' `photo` and `file` types); this header says what counts as a reference, and hashes bytes.
//
// On the wire and in store keys a hash is its 32 raw bytes; people and records see the hex.
#pragma once

#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "communesync/sync/record.hpp"

namespace communesync::sync {

//! Bytes of a raw SHA-256.
inline constexpr std::size_t kFileHashBytes = 32;

//! True if `text` is 64 lowercase hex digits: a file reference when it is a field's value.
bool isFileHashHex(std::string_view text);
//! The 32 raw bytes of a hex hash, or empty if `hex` is not one.
std::string fileHashFromHex(std::string_view hex);
//! The hex form of 32 raw bytes.
std::string fileHashToHex(std::string_view raw);

//! The files a record refers to (raw hashes): every string value of its fields, at any depth of
//! lists and maps (repeated groups), that is a hash. A deleted record refers to none.
std::set<std::string> fileRefs(const Record& record);
//! The same, for one value.
void collectFileRefs(const Value& value, std::set<std::string>& out);

//! SHA-256 over bytes fed in pieces (OpenSSL's EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  //! The 32 raw bytes; the object is spent afterwards.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace communesync::sync
