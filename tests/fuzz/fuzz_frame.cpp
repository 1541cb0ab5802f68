// The server's and the client's first contact with untrusted bytes: a WebSocket message.
#include "communesync/sync/frame.hpp"
#include "fuzz_target.hpp"

using namespace communesync::sync;

namespace {

template <class T>
void tryUnwrap(const proto::Envelope& e) {
  auto m = proto::unwrap<T>(e);
  if (m.isOk()) {
    // Whatever decoded must encode and decode to the same bytes.
    auto again = decode<T>(encode(*m));
    if (!again.isOk()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto envelope = proto::decodeFrame(std::string_view(reinterpret_cast<const char*>(data), size), 1 << 20);
  if (!envelope.isOk()) return 0;
  switch (envelope->type) {
    case proto::MessageType::kHello:
      tryUnwrap<proto::Hello>(*envelope);
      break;
    case proto::MessageType::kWelcome:
      tryUnwrap<proto::Welcome>(*envelope);
      break;
    case proto::MessageType::kPush: {
      auto push = proto::unwrap<proto::Push>(*envelope);
      if (push.isOk()) {
        for (auto& c : push->changes) (void)validateChange(c, push->restore);
      }
      break;
    }
    case proto::MessageType::kPushResult:
      tryUnwrap<proto::PushResult>(*envelope);
      break;
    case proto::MessageType::kPull:
      tryUnwrap<proto::Pull>(*envelope);
      break;
    case proto::MessageType::kPullBatch:
      tryUnwrap<proto::PullBatch>(*envelope);
      break;
    case proto::MessageType::kNotify:
      tryUnwrap<proto::Notify>(*envelope);
      break;
    case proto::MessageType::kError:
      tryUnwrap<proto::Error>(*envelope);
      break;
    case proto::MessageType::kAccess:
      tryUnwrap<proto::Access>(*envelope);
      break;
    case proto::MessageType::kFileQuery:
      tryUnwrap<proto::FileQuery>(*envelope);
      break;
    case proto::MessageType::kFileStates:
      tryUnwrap<proto::FileStates>(*envelope);
      break;
    case proto::MessageType::kFilePut:
      tryUnwrap<proto::FilePut>(*envelope);
      break;
    case proto::MessageType::kFileAck:
      tryUnwrap<proto::FileAck>(*envelope);
      break;
    case proto::MessageType::kFileGet:
      tryUnwrap<proto::FileGet>(*envelope);
      break;
    case proto::MessageType::kFileData:
      tryUnwrap<proto::FileData>(*envelope);
      break;
  }
  return 0;
}

std::vector<std::string> fuzzSeeds() {
  DeviceId d;
  d.bytes[3] = 9;
  Change c;
  c.id = {d, 1};
  c.key = {"household", "h1"};
  c.scope = "xa-01";
  c.assignments.push_back({"chu_ho", Value("Lò Văn Pá"), Stamp{10, 0, d}, {}});
  c.assignments.push_back(
      {"tags", Value(Value::List{Value(1), Value(Value::Map{{"a", Value(2.5)}})}), Stamp{10, 0, d}, {}});
  Change del = c;
  del.assignments.clear();
  del.deletion = Deletion{Stamp{11, 0, d}, {{"chu_ho", Stamp{10, 0, d}}}};
  proto::Push push{{c, del}, false};
  Record r;
  r.key = c.key;
  r.scope = "xa-01";
  r.fields["chu_ho"] = {Value("x"), Stamp{10, 0, d}, {}, {}};
  Conflict k{c.key, "xa-01", "chu_ho", {Value(1), Stamp{1, 0, d}}, {std::nullopt, Stamp{2, 0, d}}, 5, {}, {},
             0,     {},      {}};
  proto::PullBatch batch{{r}, {k}, {{"xa-01", 7}}, true};
  proto::Welcome w;
  w.scopes = {"xa-01", "xa-02"};
  w.incarnation = "abc";
  std::vector<std::string> seeds = {
      proto::frameOf(proto::Hello{1, d, "cli", 123}, 1),
      proto::frameOf(w, 1),
      proto::frameOf(push, 2),
      proto::frameOf(proto::PushResult{{proto::ChangeResult{c.id, proto::Outcome::kRejected, 0, 11, "no", false}}}, 2),
      proto::frameOf(proto::Pull{{{"xa-01", 3}}, 1000}, 3),
      proto::frameOf(batch, 3),
      proto::frameOf(proto::Notify{{{"xa-01", 9}}}, 0),
      proto::frameOf(proto::Access{{"xa-01"}, {{"xa-01", 9}}}, 0),
      proto::frameOf(proto::Error{8, "busy", true}, 4),
      proto::frameOf(proto::FileQuery{{std::string(32, 'h'), std::string(32, 'i')}}, 6),
      proto::frameOf(proto::FileStates{{proto::FileState{std::string(32, 'h'), 900, 300, false, true}}}, 6),
      proto::frameOf(proto::FilePut{std::string(32, 'h'), 900, 300, std::string(300, 'x')}, 7),
      proto::frameOf(proto::FileAck{std::string(32, 'h'), 600, false, 0, ""}, 7),
      proto::frameOf(proto::FileGet{std::string(32, 'h'), 0, 4096}, 8),
      proto::frameOf(proto::FileData{std::string(32, 'h'), 900, 0, std::string(200, '\x7f')}, 8),
  };
  // A large push, so that the compressed path is seeded too.
  proto::Push big;
  for (int i = 0; i < 50; ++i) big.changes.push_back(c);
  seeds.push_back(proto::frameOf(big, 5));
  return seeds;
}
