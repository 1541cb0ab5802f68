// Bytes read back from a store (a disk can corrupt them): records, changes, conflicts, values,
// file entries.
#include "communesync/sync/codec.hpp"
#include "communesync/sync/file_store.hpp"
#include "fuzz_target.hpp"

using namespace communesync::sync;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)decode<Record>(bytes);
      break;
    case 1: {
      // The search index reads only a change's key (decodeChangeKey): it must agree with decode().
      auto change = decode<Change>(bytes);
      auto key = decodeChangeKey(bytes);
      if (change.isOk() && (!key.isOk() || !(*key == change->key))) __builtin_trap();
      break;
    }
    case 2:
      (void)decode<Conflict>(bytes);
      break;
    case 4:
      (void)decode<FileEntry>(bytes);
      break;
    default: {
      auto v = decode<Value>(bytes);
      if (v.isOk()) (void)normalizeValue(*v);
    }
  }
  return 0;
}

std::vector<std::string> fuzzSeeds() {
  DeviceId d;
  d.bytes[0] = 1;
  Record r;
  r.key = {"household", "h1"};
  r.scope = "xa-01";
  r.fields["a"] = {Value("Hà Giang"), Stamp{1, 2, d}, Stamp{1, 1, d}, {}};
  r.tombstone = {Stamp{0, 5, d}, {{"a", Stamp{1, 1, d}}}};
  Change c;
  c.id = {d, 4};
  c.key = r.key;
  c.scope = "xa-01";
  c.assignments.push_back({"a", Value(Value::List{Value(true), Value(Bytes{"\x01\x02"})}), Stamp{3, 0, d}, {}});
  Conflict k{
      r.key, "xa-01", "",   {std::nullopt, Stamp{1, 0, d}}, {Value(7), Stamp{2, 0, d}}, 9, ConflictStatus::kResolved,
      "lan", 10,      "ok", {Value(8), Stamp{3, 0, d}}};
  return {std::string(1, '\0') + encode(r), std::string(1, '\1') + encode(c), std::string(1, '\2') + encode(k),
          std::string(1, '\3') + encode(Value(Value::Map{{"k", Value(-1)}, {"l", Value(0.5)}})),
          std::string(1, '\4') + encode(FileEntry{900, 300, false, true, false, 5, 0, "nhà.jpg"})};
}
