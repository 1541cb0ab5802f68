// Synthetic household surveys for benchmarks: about 300 bytes in 15 fields, Vietnamese names with
// diacritics, as a commune working group would record them.
#pragma once

#include <array>
#include <map>
#include <random>
#include <string>

#include "communesync/sync/value.hpp"

namespace communesync::tools {

inline std::map<std::string, sync::Value> surveyFields(std::mt19937_64& rng) {
  static const std::array<const char*, 8> kFamily = {"Lò", "Hà", "Vàng", "Sùng", "Giàng", "Lường", "Nông", "Triệu"};
  static const std::array<const char*, 8> kGiven = {"Văn Pá",  "Thị Mai",   "A Dính", "Seo Chứ",
                                                    "Thị Hoa", "Văn Thắng", "Mí Sử",  "Thị Lan"};
  static const std::array<const char*, 6> kEthnic = {"Thái", "Mông", "Dao", "Tày", "Nùng", "Khơ Mú"};
  static const std::array<const char*, 4> kPoverty = {"ngheo", "can_ngheo", "thoat_ngheo", "khong_ngheo"};
  static const std::array<const char*, 5> kLivelihood = {"trồng lúa nương", "chăn nuôi bò", "trồng chè", "làm thuê",
                                                         "trồng ngô"};
  static const std::array<const char*, 4> kWish = {"Mong được hỗ trợ bò giống để phát triển kinh tế",
                                                   "Cần vốn vay ưu đãi và tập huấn kỹ thuật",
                                                   "Mong được hỗ trợ làm nhà vệ sinh", "Cần giống chè và phân bón"};
  auto pick = [&](const auto& a) { return std::string(a[rng() % a.size()]); };
  std::map<std::string, sync::Value> f;
  f["chu_ho"] = pick(kFamily) + " " + pick(kGiven);
  f["thon"] = "Thôn " + std::to_string(1 + rng() % 12);
  f["dan_toc"] = pick(kEthnic);
  f["so_nhan_khau"] = static_cast<std::int64_t>(1 + rng() % 9);
  f["ho_ngheo"] = pick(kPoverty);
  f["sinh_ke"] = pick(kLivelihood);
  f["dien_tich_dat_m2"] = static_cast<std::int64_t>(500 + rng() % 20000);
  f["so_bo"] = static_cast<std::int64_t>(rng() % 6);
  f["so_lon"] = static_cast<std::int64_t>(rng() % 10);
  f["nha_tam"] = (rng() % 3) == 0;
  f["nha_ve_sinh"] = (rng() % 2) == 0;
  f["thu_nhap_vnd"] = static_cast<std::int64_t>(1'000'000 * (5 + rng() % 40));
  f["vi_do"] = 22.0 + static_cast<double>(rng() % 100000) / 100000.0;
  f["kinh_do"] = 104.0 + static_cast<double>(rng() % 100000) / 100000.0;
  f["nguyen_vong"] = pick(kWish);
  return f;
}

}  // namespace communesync::tools
