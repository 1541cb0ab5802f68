// Every limit of sync/ (record model, merge, protocol), in one place.
#pragma once

#include <chrono>
#include <cstddef>

namespace communesync::sync::tuning {

//! The server never keeps a stamp further ahead of its own clock than this; it clamps it and says so.
inline constexpr std::chrono::milliseconds kMaxStampAhead = std::chrono::minutes(5);
//! Collection names and record ids: bytes.
inline constexpr std::size_t kMaxNameBytes = 128;
//! Field names: bytes.
inline constexpr std::size_t kMaxFieldNameBytes = 128;
//! Fields in one record.
inline constexpr std::size_t kMaxFieldsPerRecord = 512;
//! One string or bytes value.
inline constexpr std::size_t kMaxValueBytes = std::size_t{256} * 1024;
//! Nesting of lists and maps inside a value.
inline constexpr std::size_t kMaxValueDepth = 16;
//! Elements in one list or map value.
inline constexpr std::size_t kMaxValueElements = 10'000;
//! One encoded change.
inline constexpr std::size_t kMaxChangeBytes = std::size_t{1024} * 1024;
//! One merged record, encoded. A change that would make a record larger is rejected, so that any
//! record fits in a pull batch (and a device never meets a record it cannot receive).
inline constexpr std::size_t kMaxRecordBytes = std::size_t{1024} * 1024;

//! Largest piece of a file in one message. Small enough that a cut on a 2G link wastes little,
//! large enough that a fast link is not held back by per-message costs.
inline constexpr std::size_t kMaxFilePieceBytes = std::size_t{64} * 1024;
//! Hashes in one file query.
inline constexpr std::size_t kMaxFilesPerQuery = 1000;

//! Frames smaller than this are sent uncompressed (zstd's header would not pay for itself).
inline constexpr std::size_t kCompressAboveBytes = 256;
//! zstd level for frames: 3 is zstd's default, a good ratio at low CPU on a phone.
inline constexpr int kZstdLevel = 3;

}  // namespace communesync::sync::tuning
