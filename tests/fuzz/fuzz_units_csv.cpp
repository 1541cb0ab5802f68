// The units CSV an administrator uploads (POST /admin/units/import): parsed, then checked against
// a tree as an import would be, then built into a tree and walked.
#include "fuzz_target.hpp"
#include "programme/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace communesync::server;
  auto units = parseUnitsCsv(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!units.isOk()) return 0;
  static const UnitTree base(*parseUnitsCsv("code,parent_code,level,name\nP,,province,Tỉnh\nD,P,district,Huyện\n"));
  if (!base.checkImport(*units).isOk()) return 0;
  auto all = base.all();
  all.insert(all.end(), units->begin(), units->end());
  UnitTree tree(std::move(all));
  for (const auto& u : tree.all()) {
    (void)tree.covers("P", u.code);
    (void)tree.subtree(u.code);
  }
  return 0;
}

std::vector<std::string> fuzzSeeds() {
  return {
      "code,parent_code,level,name\nC1,D,commune,Trà Đốc\nV1,C1,village,Thôn 1\n",
      "code,parent_code,level,name\r\nC2,D,commune,\"Trà \"\"Bui\"\", xã\"\r\n",
      "\xEF\xBB\xBF"
      "code,parent_code,level,name\nP2,,province,Tỉnh mới\n\nD2,P2,district,Huyện mới\n",
      "code,parent_code,level,name\nX,NOPE,commune,x\n",
      "code,parent_code,level,name\nA,,province,\"open\n",
  };
}
