// THE WIRE MESSAGES of protocol communesync.v1, all in this file. docs/protocol.md describes the
// bytes; this header is the source of truth it is checked against.
//
// Every WebSocket binary message is one Frame (frame.hpp) holding one Envelope: a message type, a
// request id chosen by the sender of a request and echoed in its reply, and the payload, which is
// one of the structs below: those that carry changes and records in the compact codec
// (compact.hpp), the others with cereal's portable binary archive (codec.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/sync/change.hpp"
#include "communesync/sync/codec.hpp"
#include "communesync/sync/conflict.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::sync::proto {

//! The WebSocket subprotocol name; a new incompatible protocol gets a new name.
inline constexpr std::string_view kSubprotocol = "communesync.v1";
inline constexpr std::uint32_t kProtocolVersion = 2;  // 2: the compact codec (compact.hpp)

enum class MessageType : std::uint16_t {
  kHello = 1,        //!< device -> server, first message
  kWelcome = 2,      //!< server -> device, reply to hello
  kPush = 3,         //!< device -> server: local changes
  kPushResult = 4,   //!< server -> device: one result per change, sent once they are durable
  kPull = 5,         //!< device -> server: what changed in my scopes since my checkpoints?
  kPullBatch = 6,    //!< server -> device: records, conflicts, new checkpoints, more?
  kNotify = 7,       //!< server -> device: your scopes have new data (no reply)
  kError = 8,        //!< either way: the request (or the session) failed
  kAccess = 9,       //!< server -> device: what you may read changed (no reply); purge the rest
  kFileQuery = 10,   //!< device -> server: what do you hold of these files?
  kFileStates = 11,  //!< server -> device: reply to a file query
  kFilePut = 12,     //!< device -> server: a piece of a file
  kFileAck = 13,     //!< server -> device: the piece is durable; what the server now holds
  kFileGet = 14,     //!< device -> server: send me a piece of a file
  kFileData = 15,    //!< server -> device: reply to a file get
};

//! The highest message type this build knows.
inline constexpr std::uint16_t kLastMessageType = 15;

const char* messageTypeName(MessageType type);

struct Envelope {
  MessageType type = MessageType::kError;
  std::uint64_t request_id = 0;  //!< 0 for messages that are not requests or replies (notify)
  std::string payload;           //!< the encoded message
};

//! The server's limits, told to the device in Welcome so it sizes its batches.
struct Limits {
  std::uint64_t max_message_bytes = 0;  //!< a frame larger than this is refused
  std::uint32_t max_changes_per_push = 0;
  std::uint32_t max_pushes_in_flight = 0;  //!< pipelining window
  std::uint64_t max_pull_bytes = 0;        //!< upper bound a pull may ask for
  // Since version 2 (files):
  std::uint64_t max_file_bytes = 0;   //!< a larger file is refused
  std::uint32_t max_piece_bytes = 0;  //!< largest piece of a file in one put or data message
  double messages_per_second = 0;     //!< sustained message rate a session may send (0: unknown)
  double bytes_per_second = 0;        //!< sustained byte rate a session may send (0: unknown)
};

struct Hello {
  std::uint32_t protocol_version = kProtocolVersion;
  DeviceId device;
  std::string client_version;
  std::int64_t device_time_ms = 0;  //!< the device's own clock, uncorrected
  // Since version 2 (the field app):
  bool reads_zstd = true;  //!< false: send this device plain frames only (FrameCodec::kNone)
};

//! Per scope: a sequence number of that scope (each scope numbers its own changes).
using Checkpoints = std::map<Scope, std::uint64_t, std::less<>>;

struct Welcome {
  std::uint32_t protocol_version = kProtocolVersion;
  DeviceId device;
  std::string user;
  std::vector<Scope> scopes;        //!< every unit this device may read, sorted; it holds nothing else
  std::int64_t server_time_ms = 0;  //!< the device sets its clock offset from this
  std::string incarnation;          //!< the store's incarnation id
  Checkpoints latest;               //!< each readable scope's latest seq (scopes with none left out):
                                    //!< a device holding a checkpoint beyond it knows the server went
                                    //!< back in time; one at it has nothing to pull there
  Limits limits;
};

struct Push {
  std::vector<Change> changes;
  //! Set when the device re-sends records it holds because the server's incarnation changed:
  //! their stamps may then be other devices' (the merge makes re-sending harmless).
  bool restore = false;
  //! Every change of this device with a seq below this one has its result and will never be sent
  //! again (the oldest seq still waiting in the device's outbox): the server may forget those
  //! results (retention, docs/architecture.md). 0: not said.
  std::uint64_t acknowledged_below = 0;
};

enum class Outcome : std::uint8_t {
  kAccepted = 0,  //!< applied (or applied before: a replay gets its first result)
  kRejected = 1,  //!< refused for good; `code` and `reason` say why; the device keeps it for the user
};

struct ChangeResult {
  ChangeId id;
  Outcome outcome = Outcome::kAccepted;
  std::uint64_t server_seq = 0;  //!< accepted: the sequence number it got in its scope
  std::uint16_t code = 0;        //!< rejected: an ErrorCode
  std::string reason;            //!< rejected: for a person to read
  bool clamped = false;          //!< accepted: a stamp was too far ahead and was clamped
  //! accepted: the server's record after this change is exactly `merge(nothing, the change as
  //! pushed, receive_time_ms)` (merge.hpp): the change made the record, nothing was clamped and the
  //! form version is the one sent. The device lays that record as its copy of the server's, and a
  //! pull that says `steps_over_own` does not send it back (docs/protocol.md 5.2, 5.4).
  bool exact = false;
  std::int64_t receive_time_ms = 0;  //!< exact: the server's time of receipt (the record's receive time)
};

struct PushResult {
  std::vector<ChangeResult> results;  //!< one per change, in the order of the push
  //! Each readable scope's latest seq as the results were sent (scopes with none left out), as in
  //! Welcome: a device whose checkpoints reach it (its own exact records moved them there) has
  //! nothing to pull, even on a connection kept open since an earlier sync (docs/protocol.md 5.4).
  //! Sent only when not empty, so a result without it is byte for byte what it was before.
  Checkpoints latest;
};

struct Pull {
  Checkpoints checkpoints;      //!< per scope, the highest seq the device has applied; readable
                                //!< scopes missing here start from 0, others are ignored
  std::uint64_t max_bytes = 0;  //!< the batch stops growing past this (at least one record is sent)
  //! The device holds the record of every `exact` result it was given: the server steps over the
  //! records whose latest change is such a change of this device, in scopes pulled from a
  //! checkpoint above 0 (the checkpoint still moves past them). False while a resync is under way.
  //! Sent only when true, so a pull without it is byte for byte what it was before it existed.
  bool steps_over_own = false;
};

struct PullBatch {
  std::vector<Record> records;      //!< latest merged state of each changed record
  std::vector<Conflict> conflicts;  //!< conflicts found or changed in these scopes since the checkpoints
  Checkpoints checkpoints;          //!< the scopes that moved; apply the batch and these atomically
  bool more = false;                //!< pull again: more remains
  //! Scopes whose checkpoint is older than the server's purge horizon: a deletion the device has
  //! not seen may be gone. Nothing of them is in this batch. The device drops its checkpoint of
  //! each, pulls it from 0 and then drops the records of it the server did not send, keeping its
  //! own pending changes (docs/protocol.md 5.4). Sent only when not empty (after `more`).
  std::vector<Scope> resync;
};

//! A pull batch as the server sends it: its records already in their compact bytes, spliced from
//! the store without decoding them. The same bytes on the wire as a PullBatch of those records.
struct EncodedPullBatch {
  std::uint64_t record_count = 0;
  std::string records;  //!< `record_count` compact records, one after the other
  std::vector<Conflict> conflicts;
  Checkpoints checkpoints;
  bool more = false;
  std::vector<Scope> resync;
  //! Appends one record's compact bytes.
  void add(std::string_view record_bytes);
};

struct Notify {
  Checkpoints latest;  //!< readable scopes that changed, with their latest seq
};

//! The device's readable units changed (a grant was added or removed, units were merged). The
//! device purges what it holds outside `scopes` and pulls what is new.
struct Access {
  std::vector<Scope> scopes;  //!< every unit this device may now read, sorted
  Checkpoints latest;         //!< as in Welcome
};

// ---- files (file_ref.hpp, file_store.hpp): every hash is the file's SHA-256, 32 raw bytes ----

//! What does the server hold of these files? Answered with FileStates, in the same order.
struct FileQuery {
  std::vector<std::string> hashes;  //!< at most Limits::max_changes_per_push
};

struct FileState {
  std::string hash;
  std::uint64_t size = 0;  //!< 0 if the server has never heard of the file
  std::uint64_t have = 0;  //!< durable bytes held (a prefix): an upload resumes here
  bool complete = false;   //!< held whole and its hash checked
  bool readable = false;   //!< this device may fetch it (a record it may read refers to it)
};

struct FileStates {
  std::vector<FileState> files;
};

//! A piece of a file the device uploads: bytes [offset, offset + data.size()) of a `size`-byte file.
//! The server keeps only what extends what it holds; a piece past that is ignored (the ack says
//! where to resume).
struct FilePut {
  std::string hash;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
  std::string data;  //!< at most Limits::max_piece_bytes
};

//! Sent once the piece is durable (or refused).
struct FileAck {
  std::string hash;
  std::uint64_t have = 0;  //!< durable bytes the server holds now; the next piece starts here
  bool complete = false;   //!< the file is whole and its hash checked
  std::uint16_t code = 0;  //!< non-zero: refused (an ErrorCode), with `reason`; a mismatched hash
                           //!< answers kInvalidArgument with have = 0: send it again from the start
  std::string reason;
};

//! Send me up to `max_bytes` of a file from `offset`. Answered with FileData, or an Error
//! (kNotFound: not complete on the server yet; kForbidden: no record you may read refers to it).
struct FileGet {
  std::string hash;
  std::uint64_t offset = 0;
  std::uint32_t max_bytes = 0;
};

struct FileData {
  std::string hash;
  std::uint64_t size = 0;  //!< the whole file
  std::uint64_t offset = 0;
  std::string data;
};

struct Error {
  std::uint16_t code = 0;  //!< an ErrorCode
  std::string message;
  bool retryable = false;
};

//! The type tag of each payload struct.
template <class T>
constexpr MessageType typeOf();
template <>
constexpr MessageType typeOf<Hello>() {
  return MessageType::kHello;
}
template <>
constexpr MessageType typeOf<Welcome>() {
  return MessageType::kWelcome;
}
template <>
constexpr MessageType typeOf<Push>() {
  return MessageType::kPush;
}
template <>
constexpr MessageType typeOf<PushResult>() {
  return MessageType::kPushResult;
}
template <>
constexpr MessageType typeOf<Pull>() {
  return MessageType::kPull;
}
template <>
constexpr MessageType typeOf<PullBatch>() {
  return MessageType::kPullBatch;
}
template <>
constexpr MessageType typeOf<EncodedPullBatch>() {
  return MessageType::kPullBatch;
}
template <>
constexpr MessageType typeOf<Notify>() {
  return MessageType::kNotify;
}
template <>
constexpr MessageType typeOf<Error>() {
  return MessageType::kError;
}
template <>
constexpr MessageType typeOf<Access>() {
  return MessageType::kAccess;
}
template <>
constexpr MessageType typeOf<FileQuery>() {
  return MessageType::kFileQuery;
}
template <>
constexpr MessageType typeOf<FileStates>() {
  return MessageType::kFileStates;
}
template <>
constexpr MessageType typeOf<FilePut>() {
  return MessageType::kFilePut;
}
template <>
constexpr MessageType typeOf<FileAck>() {
  return MessageType::kFileAck;
}
template <>
constexpr MessageType typeOf<FileGet>() {
  return MessageType::kFileGet;
}
template <>
constexpr MessageType typeOf<FileData>() {
  return MessageType::kFileData;
}

//! An envelope holding `message`.
template <class T>
Envelope wrap(const T& message, std::uint64_t request_id) {
  return Envelope{typeOf<T>(), request_id, encode(message)};
}

//! The payload of `envelope` as a `T`. Errors: kProtocol if the type differs or the bytes do not decode.
template <class T>
Result<T> unwrap(const Envelope& envelope) {
  if (envelope.type != typeOf<T>()) {
    return Status::error(ErrorCode::kProtocol, std::string("expected ") + messageTypeName(typeOf<T>()) + ", got " +
                                                   messageTypeName(envelope.type));
  }
  return decode<T>(envelope.payload);
}

// ---- serialization ----

// The messages that carry changes and records: the compact codec (compact.hpp, messages.cpp).
//! An envelope's type and request id; its payload follows to the end of the frame.
void writeEnvelopeHead(CompactWriter& w, MessageType type, std::uint64_t request_id);
void writeCompact(CompactWriter& w, const Envelope& e);
void readCompact(CompactReader& r, Envelope& e);
void writeCompact(CompactWriter& w, const Push& p);
void readCompact(CompactReader& r, Push& p);
void writeCompact(CompactWriter& w, const ChangeResult& result);
void readCompact(CompactReader& r, ChangeResult& result);
void writeCompact(CompactWriter& w, const PushResult& p);
void readCompact(CompactReader& r, PushResult& p);
void writeCompact(CompactWriter& w, const Pull& p);
void readCompact(CompactReader& r, Pull& p);
void writeCompact(CompactWriter& w, const PullBatch& b);
void readCompact(CompactReader& r, PullBatch& b);
void writeCompact(CompactWriter& w, const EncodedPullBatch& b);
void readCompact(CompactReader& r, EncodedPullBatch& b);

// The others: cereal (codec.hpp).

template <class Archive>
void serialize(Archive& ar, Limits& l, std::uint32_t version) {
  ar(l.max_message_bytes, l.max_changes_per_push, l.max_pushes_in_flight, l.max_pull_bytes);
  if (version >= 2) ar(l.max_file_bytes, l.max_piece_bytes, l.messages_per_second, l.bytes_per_second);
}

template <class Archive>
void serialize(Archive& ar, Hello& h, std::uint32_t version) {
  ar(h.protocol_version, h.device, codec_detail::Str{h.client_version}, h.device_time_ms);
  if (version >= 2) ar(codec_detail::Flag{h.reads_zstd});
}

template <class Archive>
void save(Archive& ar, const Welcome& w, std::uint32_t) {
  ar(w.protocol_version, w.device);
  codec_detail::saveString(ar, w.user);
  codec_detail::saveVector(ar, w.scopes);
  ar(w.server_time_ms);
  codec_detail::saveString(ar, w.incarnation);
  codec_detail::saveStringMap(ar, w.latest);
  ar(w.limits);
}
template <class Archive>
void load(Archive& ar, Welcome& w, std::uint32_t) {
  ar(w.protocol_version, w.device);
  codec_detail::loadString(ar, w.user);
  codec_detail::loadVector(ar, w.scopes);
  ar(w.server_time_ms);
  codec_detail::loadString(ar, w.incarnation);
  codec_detail::loadStringMap(ar, w.latest);
  ar(w.limits);
}

template <class Archive>
void save(Archive& ar, const Notify& n, std::uint32_t) {
  codec_detail::saveStringMap(ar, n.latest);
}
template <class Archive>
void load(Archive& ar, Notify& n, std::uint32_t) {
  codec_detail::loadStringMap(ar, n.latest);
}
template <class Archive>
void save(Archive& ar, const Access& a, std::uint32_t) {
  codec_detail::saveVector(ar, a.scopes);
  codec_detail::saveStringMap(ar, a.latest);
}
template <class Archive>
void load(Archive& ar, Access& a, std::uint32_t) {
  codec_detail::loadVector(ar, a.scopes);
  codec_detail::loadStringMap(ar, a.latest);
}

template <class Archive>
void save(Archive& ar, const FileQuery& q, std::uint32_t) {
  codec_detail::saveVector(ar, q.hashes);
}
template <class Archive>
void load(Archive& ar, FileQuery& q, std::uint32_t) {
  codec_detail::loadVector(ar, q.hashes);
}

template <class Archive>
void serialize(Archive& ar, FileState& f, std::uint32_t) {
  ar(codec_detail::Str{f.hash}, f.size, f.have, codec_detail::Flag{f.complete}, codec_detail::Flag{f.readable});
}

template <class Archive>
void save(Archive& ar, const FileStates& s, std::uint32_t) {
  codec_detail::saveVector(ar, s.files);
}
template <class Archive>
void load(Archive& ar, FileStates& s, std::uint32_t) {
  codec_detail::loadVector(ar, s.files);
}

template <class Archive>
void serialize(Archive& ar, FilePut& p, std::uint32_t) {
  ar(codec_detail::Str{p.hash}, p.size, p.offset, codec_detail::Str{p.data});
}

template <class Archive>
void serialize(Archive& ar, FileAck& a, std::uint32_t) {
  ar(codec_detail::Str{a.hash}, a.have, codec_detail::Flag{a.complete}, a.code, codec_detail::Str{a.reason});
}

template <class Archive>
void serialize(Archive& ar, FileGet& g, std::uint32_t) {
  ar(codec_detail::Str{g.hash}, g.offset, g.max_bytes);
}

template <class Archive>
void serialize(Archive& ar, FileData& d, std::uint32_t) {
  ar(codec_detail::Str{d.hash}, d.size, d.offset, codec_detail::Str{d.data});
}

template <class Archive>
void serialize(Archive& ar, Error& e, std::uint32_t) {
  ar(e.code, codec_detail::Str{e.message}, codec_detail::Flag{e.retryable});
}

}  // namespace communesync::sync::proto

CEREAL_CLASS_VERSION(communesync::sync::proto::Limits, 2)
CEREAL_CLASS_VERSION(communesync::sync::proto::Hello, 2)
CEREAL_CLASS_VERSION(communesync::sync::proto::Welcome, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::Notify, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::Error, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::Access, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::FileQuery, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::FileState, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::FileStates, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::FilePut, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::FileAck, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::FileGet, 1)
CEREAL_CLASS_VERSION(communesync::sync::proto::FileData, 1)
