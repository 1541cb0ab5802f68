#include "communesync/sync/form.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::sync {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 12> kTypeNames = {
    "text", "integer", "decimal", "money", "date", "choice", "multi_choice", "yes_no", "gps", "photo", "file", "group"};

std::optional<FieldType> typeFromName(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<FieldType>(i);
  }
  return std::nullopt;
}

// ---- dates: days since 1970-01-01 (H. Hinnant's days_from_civil) ----

std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> parseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int y = std::stoi(std::string(s.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(s.substr(5, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(s.substr(8, 2))));
  static constexpr std::array<unsigned, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return std::nullopt;
  return daysFromCivil(y, m, d);
}

std::string civilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y) + (m <= 2 ? 1 : 0), m, d);
  return buf;
}

std::string number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// ---- parsing ----

Status at(const std::string& where, const std::string& what) {
  return Status::error(ErrorCode::kInvalidArgument, where + ": " + what);
}

Result<Label> parseLabel(const json& j, const std::string& where, bool required) {
  Label label;
  if (j.is_null()) {
    if (required) return at(where, "a label {\"vi\": ..., \"en\": ...} is needed");
    return label;
  }
  if (!j.is_object()) return at(where, "must be {\"vi\": ..., \"en\": ...}");
  for (const auto& [lang, text] : j.items()) {
    if ((lang != "vi" && lang != "en") || !text.is_string()) return at(where, "only \"vi\" and \"en\" texts");
    auto nfc = toNfc(text.get<std::string>());
    if (!nfc) return at(where + "." + lang, nfc.status().message());
    (lang == "vi" ? label.vi : label.en) = std::move(nfc).value();
  }
  if (required && label.vi.empty()) return at(where, "the Vietnamese text (\"vi\") is needed");
  return label;
}

Result<Value> plainValue(const json& j, const std::string& where) {
  if (j.is_string()) {
    auto nfc = toNfc(j.get<std::string>());
    if (!nfc) return at(where, nfc.status().message());
    return Value(std::move(nfc).value());
  }
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<std::int64_t>());
  if (j.is_number()) return Value(j.get<double>());
  return at(where, "must be text, a number or true/false");
}

Status checkName(const std::string& name, const std::string& where) {
  if (name.empty() || name.size() > tuning::kMaxNameBytes ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos ||
      (name[0] >= '0' && name[0] <= '9')) {
    return at(where, "'" + name + "' must be lowercase letters, digits and _ (not starting with a digit)");
  }
  return Status::ok();
}

Result<std::optional<double>> bound(const json& j, const char* key, FieldType type, const std::string& where) {
  if (!j.contains(key)) return std::optional<double>();
  const auto& v = j[key];
  if (type == FieldType::kDate) {
    if (!v.is_string()) return at(where + "." + key, "must be a date \"YYYY-MM-DD\"");
    auto days = parseDate(v.get<std::string>());
    if (!days) return at(where + "." + key, "'" + v.get<std::string>() + "' is not a date");
    return std::optional<double>(static_cast<double>(*days));
  }
  if (!v.is_number()) return at(where + "." + key, "must be a number");
  return std::optional<double>(v.get<double>());
}

Result<std::optional<std::size_t>> count(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return std::optional<std::size_t>();
  if (!j[key].is_number_unsigned()) return at(where + "." + key, "must be a whole number");
  return std::optional<std::size_t>(j[key].get<std::size_t>());
}

Result<std::vector<FormField>> parseFields(const json& j, const std::string& where, int depth);

Result<FormField> parseField(const json& j, const std::string& where, int depth) {
  static const std::set<std::string> kKeys = {"name",      "type",    "required",   "label",      "hint",
                                              "min",       "max",     "min_length", "max_length", "min_items",
                                              "max_items", "choices", "relevant",   "fields"};
  if (!j.is_object()) return at(where, "a field must be an object");
  for (const auto& [key, v] : j.items()) {
    if (kKeys.count(key) == 0) return at(where, "\"" + key + "\" is not a field property (see docs/forms.md)");
  }
  FormField f;
  if (!j.contains("name") || !j["name"].is_string()) return at(where, "\"name\" is needed");
  f.name = j["name"].get<std::string>();
  const std::string here = where + " (" + f.name + ")";
  CS_RETURN_IF_ERROR(checkName(f.name, here + ".name"));
  if (!j.contains("type") || !j["type"].is_string()) return at(here, "\"type\" is needed");
  auto type = typeFromName(j["type"].get<std::string>());
  if (!type) {
    return at(here + ".type", "'" + j["type"].get<std::string>() +
                                  "' is not a type (text, integer, decimal, money, date, choice, multi_choice, "
                                  "yes_no, gps, photo, file, group)");
  }
  f.type = *type;
  if (j.contains("required")) {
    if (!j["required"].is_boolean()) return at(here + ".required", "must be true or false");
    f.required = j["required"].get<bool>();
  }
  auto label = parseLabel(j.value("label", json()), here + ".label", true);
  if (!label) return label.status();
  f.label = std::move(label).value();
  auto hint = parseLabel(j.value("hint", json()), here + ".hint", false);
  if (!hint) return hint.status();
  f.hint = std::move(hint).value();
  auto min = bound(j, "min", f.type, here);
  if (!min) return min.status();
  f.min = *min;
  auto max = bound(j, "max", f.type, here);
  if (!max) return max.status();
  f.max = *max;
  if (f.min && f.max && *f.min > *f.max) return at(here, "min is above max");
  for (auto [key, slot] : {std::pair{"min_length", &f.min_length}, std::pair{"max_length", &f.max_length},
                           std::pair{"min_items", &f.min_items}, std::pair{"max_items", &f.max_items}}) {
    auto n = count(j, key, here);
    if (!n) return n.status();
    *slot = *n;
  }
  if (f.type == FieldType::kChoice || f.type == FieldType::kMultiChoice) {
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) {
      return at(here + ".choices", "a choice field needs a list of choices");
    }
    std::set<std::string> codes;
    for (std::size_t i = 0; i < j["choices"].size(); ++i) {
      const auto& c = j["choices"][i];
      const std::string cw = here + ".choices[" + std::to_string(i) + "]";
      if (!c.is_object() || !c.contains("code") || !c["code"].is_string()) {
        return at(cw, "a choice is {\"code\": ..., \"vi\": ..., \"en\": ...}");
      }
      Choice choice;
      choice.code = c["code"].get<std::string>();
      if (choice.code.empty() || !codes.insert(choice.code).second) return at(cw, "codes must be unique and not empty");
      json texts = json::object();
      if (c.contains("vi")) texts["vi"] = c["vi"];
      if (c.contains("en")) texts["en"] = c["en"];
      auto text = parseLabel(texts, cw, true);
      if (!text) return text.status();
      choice.label = std::move(text).value();
      f.choices.push_back(std::move(choice));
    }
  } else if (j.contains("choices")) {
    return at(here + ".choices", "only choice and multi_choice fields have choices");
  }
  if (f.type == FieldType::kGroup) {
    if (depth >= 3) return at(here, "groups nest at most 3 deep");
    if (!j.contains("fields")) return at(here + ".fields", "a group needs its fields");
    auto sub = parseFields(j["fields"], here + ".fields", depth + 1);
    if (!sub) return sub.status();
    f.fields = std::move(sub).value();
  } else if (j.contains("fields")) {
    return at(here + ".fields", "only a group has fields");
  }
  if (j.contains("relevant")) {
    const auto& r = j["relevant"];
    if (!r.is_object() || !r.contains("field") || !r["field"].is_string()) {
      return at(here + ".relevant", "must be {\"field\": NAME} with \"equals\": VALUE or \"in\": [VALUES]");
    }
    Condition c;
    c.field = r["field"].get<std::string>();
    if (r.contains("equals")) {
      auto v = plainValue(r["equals"], here + ".relevant.equals");
      if (!v) return v.status();
      c.any_of.push_back(std::move(v).value());
    }
    if (r.contains("in")) {
      if (!r["in"].is_array()) return at(here + ".relevant.in", "must be a list");
      for (const auto& e : r["in"]) {
        auto v = plainValue(e, here + ".relevant.in");
        if (!v) return v.status();
        c.any_of.push_back(std::move(v).value());
      }
    }
    f.relevant = std::move(c);
  }
  return f;
}

Result<std::vector<FormField>> parseFields(const json& j, const std::string& where, int depth) {
  if (!j.is_array() || j.empty()) return at(where, "must be a non-empty list of fields");
  if (j.size() > tuning::kMaxFieldsPerRecord) return at(where, "too many fields");
  std::vector<FormField> fields;
  std::set<std::string> names;
  for (std::size_t i = 0; i < j.size(); ++i) {
    auto f = parseField(j[i], where + "[" + std::to_string(i) + "]", depth);
    if (!f) return f.status();
    if (!names.insert(f->name).second) return at(where, "the name '" + f->name + "' is used twice");
    fields.push_back(std::move(f).value());
  }
  for (const auto& f : fields) {
    if (f.relevant && names.count(f.relevant->field) == 0) {
      return at(where + " (" + f.name + ").relevant", "'" + f.relevant->field + "' is not a field of the form");
    }
  }
  return fields;
}

// ---- validation ----

struct Checker {
  std::vector<FieldError>& errors;

  void fail(const std::string& path, std::string vi, std::string en) {
    errors.push_back(FieldError{path, std::move(vi) + " / " + std::move(en)});
  }

  static bool relevant(const FormField& f, const std::map<std::string, Value, std::less<>>& values) {
    if (!f.relevant) return true;
    auto it = values.find(f.relevant->field);
    if (it == values.end() || it->second.isNull()) return false;
    if (f.relevant->any_of.empty()) return true;
    const Value& v = it->second;
    for (const auto& want : f.relevant->any_of) {
      if (v == want) return true;
      if (const auto* list = v.get<Value::List>()) {  // multi_choice: any chosen code counts
        if (std::find(list->begin(), list->end(), want) != list->end()) return true;
      }
    }
    return false;
  }

  void range(const FormField& f, const std::string& path, double v, bool date) {
    auto show = [&](double b) { return date ? civilFromDays(static_cast<std::int64_t>(b)) : number(b); };
    if (f.min && v < *f.min) fail(path, "phải từ " + show(*f.min) + " trở lên", "must be at least " + show(*f.min));
    if (f.max && v > *f.max) fail(path, "không được quá " + show(*f.max), "must be at most " + show(*f.max));
  }

  void items(const FormField& f, const std::string& path, std::size_t n) {
    if (f.min_items && n < *f.min_items) {
      fail(path, "phải có ít nhất " + std::to_string(*f.min_items) + " mục",
           "must have at least " + std::to_string(*f.min_items) + " items");
    }
    if (f.max_items && n > *f.max_items) {
      fail(path, "không được quá " + std::to_string(*f.max_items) + " mục",
           "must have at most " + std::to_string(*f.max_items) + " items");
    }
  }

  bool isChoice(const FormField& f, const std::string& code) {
    return std::any_of(f.choices.begin(), f.choices.end(), [&](const Choice& c) { return c.code == code; });
  }

  void value(const FormField& f, const std::string& path, const Value& v) {
    switch (f.type) {
      case FieldType::kText: {
        const auto* s = v.get<std::string>();
        if (s == nullptr) return fail(path, "phải là chữ", "must be text");
        const auto n = characters(*s);
        if (f.min_length && n < *f.min_length) {
          fail(path, "phải có ít nhất " + std::to_string(*f.min_length) + " ký tự",
               "must have at least " + std::to_string(*f.min_length) + " characters");
        }
        if (f.max_length && n > *f.max_length) {
          fail(path, "không được dài quá " + std::to_string(*f.max_length) + " ký tự",
               "must be at most " + std::to_string(*f.max_length) + " characters long");
        }
        return;
      }
      case FieldType::kInteger: {
        const auto* i = v.get<std::int64_t>();
        if (i == nullptr) return fail(path, "phải là số nguyên", "must be a whole number");
        return range(f, path, static_cast<double>(*i), false);
      }
      case FieldType::kDecimal: {
        const auto* i = v.get<std::int64_t>();
        const auto* d = v.get<double>();
        if (i == nullptr && d == nullptr) return fail(path, "phải là số", "must be a number");
        return range(f, path, i != nullptr ? static_cast<double>(*i) : *d, false);
      }
      case FieldType::kMoney: {
        const auto* i = v.get<std::int64_t>();
        if (i == nullptr) return fail(path, "phải là số tiền nguyên (đồng)", "must be a whole amount of VND");
        if (*i < 0) return fail(path, "không được âm", "must not be negative");
        return range(f, path, static_cast<double>(*i), false);
      }
      case FieldType::kDate: {
        const auto* s = v.get<std::string>();
        auto days = s != nullptr ? parseDate(*s) : std::nullopt;
        if (!days) return fail(path, "phải là ngày dạng YYYY-MM-DD", "must be a date YYYY-MM-DD");
        return range(f, path, static_cast<double>(*days), true);
      }
      case FieldType::kChoice: {
        const auto* s = v.get<std::string>();
        if (s == nullptr) return fail(path, "phải là một mã lựa chọn", "must be one choice code");
        if (!isChoice(f, *s))
          return fail(path, "'" + *s + "' không có trong danh sách", "'" + *s + "' is not a choice");
        return;
      }
      case FieldType::kMultiChoice: {
        const auto* list = v.get<Value::List>();
        if (list == nullptr) return fail(path, "phải là danh sách mã lựa chọn", "must be a list of choice codes");
        std::set<std::string> seen;
        for (const auto& e : *list) {
          const auto* s = e.get<std::string>();
          if (s == nullptr) return fail(path, "phải là danh sách mã lựa chọn", "must be a list of choice codes");
          if (!isChoice(f, *s)) fail(path, "'" + *s + "' không có trong danh sách", "'" + *s + "' is not a choice");
          if (!seen.insert(*s).second) fail(path, "chọn trùng '" + *s + "'", "'" + *s + "' is chosen twice");
        }
        return items(f, path, list->size());
      }
      case FieldType::kYesNo:
        if (v.get<bool>() == nullptr) fail(path, "phải là có/không (true/false)", "must be yes or no (true/false)");
        return;
      case FieldType::kGps: {
        const auto* m = v.get<Value::Map>();
        auto coordinate = [&](const char* key, double limit) -> bool {
          if (m == nullptr) return false;
          auto it = m->find(key);
          if (it == m->end()) return false;
          const auto* d = it->second.get<double>();
          const auto* i = it->second.get<std::int64_t>();
          const double x = d != nullptr ? *d : (i != nullptr ? static_cast<double>(*i) : 1e9);
          return std::fabs(x) <= limit;
        };
        if (!coordinate("lat", 90) || !coordinate("lon", 180)) {
          fail(path, "phải có vĩ độ lat (-90..90) và kinh độ lon (-180..180)",
               "must have lat (-90..90) and lon (-180..180)");
        }
        return;
      }
      case FieldType::kPhoto:
      case FieldType::kFile: {
        const auto* s = v.get<std::string>();
        if (s == nullptr || !isFileHashHex(*s)) {
          fail(path, "phải là mã SHA-256 của tệp (64 chữ số hex)", "must be the file's SHA-256 (64 hex digits)");
        }
        return;
      }
      case FieldType::kGroup: {
        const auto* list = v.get<Value::List>();
        if (list == nullptr) return fail(path, "phải là danh sách các mục", "must be a list of entries");
        for (std::size_t i = 0; i < list->size(); ++i) {
          const auto* entry = (*list)[i].get<Value::Map>();
          const std::string entry_path = path + "[" + std::to_string(i) + "]";
          if (entry == nullptr) {
            fail(entry_path, "mỗi mục phải là một nhóm trường", "each entry must be a set of fields");
            continue;
          }
          record(f.fields, *entry, entry_path + ".");
        }
        return items(f, path, list->size());
      }
    }
  }

  void record(const std::vector<FormField>& fields, const std::map<std::string, Value, std::less<>>& values,
              const std::string& prefix) {
    for (const auto& entry : values) {  // not a structured binding: clang 14 cannot capture one
      if (entry.second.isNull()) continue;
      const auto& name = entry.first;
      const bool known = std::any_of(fields.begin(), fields.end(), [&](const FormField& f) { return f.name == name; });
      if (!known) fail(prefix + name, "không có trong biểu mẫu", "is not a field of this form");
    }
    for (const auto& f : fields) {
      auto it = values.find(f.name);
      const bool present = it != values.end() && !it->second.isNull();
      if (!present) {
        if (f.required && relevant(f, values)) fail(prefix + f.name, "bắt buộc", "is required");
        continue;
      }
      value(f, prefix + f.name, it->second);
    }
  }
};

json labelJson(const Label& l) {
  json j = json::object();
  if (!l.vi.empty()) j["vi"] = l.vi;
  if (!l.en.empty()) j["en"] = l.en;
  return j;
}

json valueJson(const Value& v) {
  if (const auto* s = v.get<std::string>()) return *s;
  if (const auto* b = v.get<bool>()) return *b;
  if (const auto* i = v.get<std::int64_t>()) return *i;
  if (const auto* d = v.get<double>()) return *d;
  return nullptr;
}

json fieldsJson(const std::vector<FormField>& fields) {
  json out = json::array();
  for (const auto& f : fields) {
    json j{{"name", f.name}, {"type", fieldTypeName(f.type)}, {"label", labelJson(f.label)}};
    if (f.required) j["required"] = true;
    if (!f.hint.vi.empty() || !f.hint.en.empty()) j["hint"] = labelJson(f.hint);
    auto boundJson = [&](double b) -> json {
      return f.type == FieldType::kDate ? json(civilFromDays(static_cast<std::int64_t>(b))) : json(b);
    };
    if (f.min) j["min"] = boundJson(*f.min);
    if (f.max) j["max"] = boundJson(*f.max);
    if (f.min_length) j["min_length"] = *f.min_length;
    if (f.max_length) j["max_length"] = *f.max_length;
    if (f.min_items) j["min_items"] = *f.min_items;
    if (f.max_items) j["max_items"] = *f.max_items;
    if (!f.choices.empty()) {
      j["choices"] = json::array();
      for (const auto& c : f.choices) {
        json cj{{"code", c.code}, {"vi", c.label.vi}};
        if (!c.label.en.empty()) cj["en"] = c.label.en;
        j["choices"].push_back(cj);
      }
    }
    if (f.relevant) {
      json r{{"field", f.relevant->field}};
      if (!f.relevant->any_of.empty()) {
        r["in"] = json::array();
        for (const auto& v : f.relevant->any_of) r["in"].push_back(valueJson(v));
      }
      j["relevant"] = r;
    }
    if (!f.fields.empty()) j["fields"] = fieldsJson(f.fields);
    out.push_back(j);
  }
  return out;
}

}  // namespace

std::string_view fieldTypeName(FieldType type) {
  const auto i = static_cast<std::size_t>(type);
  return i < kTypeNames.size() ? kTypeNames[i] : "unknown";
}

const FormField* Form::field(std::string_view wanted) const {
  for (const auto& f : fields) {
    if (f.name == wanted) return &f;
  }
  return nullptr;
}

Result<Form> parseForm(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded()) return at("form", "not valid JSON");
  if (!j.is_object()) return at("form", "must be a JSON object");
  static const std::set<std::string> kKeys = {"name", "version", "title", "fields", "upgrade"};
  for (const auto& [key, v] : j.items()) {
    if (kKeys.count(key) == 0) return at("form", "\"" + key + "\" is not a form property (see docs/forms.md)");
  }
  Form form;
  if (!j.contains("name") || !j["name"].is_string()) return at("form", "\"name\" (the collection) is needed");
  form.name = j["name"].get<std::string>();
  CS_RETURN_IF_ERROR(checkName(form.name, "name"));
  if (j.contains("version")) {
    if (!j["version"].is_number_unsigned() || j["version"].get<std::uint64_t>() > UINT32_MAX) {
      return at("version", "must be a whole number");
    }
    form.version = j["version"].get<std::uint32_t>();
  }
  auto title = parseLabel(j.value("title", json()), "title", true);
  if (!title) return title.status();
  form.title = std::move(title).value();
  auto fields = parseFields(j.value("fields", json()), "fields", 0);
  if (!fields) return fields.status();
  form.fields = std::move(fields).value();
  if (j.contains("upgrade")) {
    const auto& u = j["upgrade"];
    if (!u.is_object()) return at("upgrade", "must be {\"renamed\": {OLD: NEW}, \"defaults\": {FIELD: VALUE}}");
    if (u.contains("renamed")) {
      if (!u["renamed"].is_object()) return at("upgrade.renamed", "must be {OLD: NEW}");
      for (const auto& [old_name, new_name] : u["renamed"].items()) {
        if (!new_name.is_string() || form.field(new_name.get<std::string>()) == nullptr) {
          return at("upgrade.renamed." + old_name, "must name a field of this version");
        }
        form.upgrade.renamed[old_name] = new_name.get<std::string>();
      }
    }
    if (u.contains("defaults")) {
      if (!u["defaults"].is_object()) return at("upgrade.defaults", "must be {FIELD: VALUE}");
      for (const auto& [name, v] : u["defaults"].items()) {
        if (form.field(name) == nullptr) return at("upgrade.defaults." + name, "is not a field of this version");
        auto value = plainValue(v, "upgrade.defaults." + name);
        if (!value) return value.status();
        form.upgrade.defaults[name] = std::move(value).value();
      }
    }
  }
  return form;
}

std::string formToJson(const Form& form) {
  json j{{"name", form.name}, {"title", labelJson(form.title)}, {"fields", fieldsJson(form.fields)}};
  if (form.version != 0) j["version"] = form.version;
  if (!form.upgrade.renamed.empty() || !form.upgrade.defaults.empty()) {
    json u = json::object();
    if (!form.upgrade.renamed.empty()) u["renamed"] = form.upgrade.renamed;
    if (!form.upgrade.defaults.empty()) {
      u["defaults"] = json::object();
      for (const auto& [name, v] : form.upgrade.defaults) u["defaults"][name] = valueJson(v);
    }
    j["upgrade"] = u;
  }
  return j.dump();
}

std::vector<FieldError> validate(const Form& form, const std::map<std::string, Value>& fields) {
  std::vector<FieldError> errors;
  Checker checker{errors};
  const std::map<std::string, Value, std::less<>> values(fields.begin(), fields.end());
  checker.record(form.fields, values, "");
  return errors;
}

std::string errorsText(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e.text();
  return out;
}

std::map<std::string, Value> upgradeFields(const Form& form, const std::map<std::string, Value>& fields) {
  std::map<std::string, Value> out;
  for (const auto& [old_name, new_name] : form.upgrade.renamed) {
    auto it = fields.find(old_name);
    if (it == fields.end() || it->second.isNull()) continue;
    auto target = fields.find(new_name);
    if (target == fields.end() || target->second.isNull()) out[new_name] = it->second;
    out[old_name] = Value();  // the old name is cleared: the value lives on under the new one
  }
  for (const auto& [name, v] : form.upgrade.defaults) {
    auto it = fields.find(name);
    if ((it == fields.end() || it->second.isNull()) && out.count(name) == 0) out[name] = v;
  }
  return out;
}

}  // namespace communesync::sync
