// THE FORMS: a versioned, typed definition of a collection, and the one validator that the client
// library (before a write is saved) and the server (before a change is accepted) both run.
//
// A form is written by hand as JSON (docs/forms.md); parseForm reads and checks it. The server
// gives each publication of a form the next version number; a record is pinned to the version it
// was filled with (Record::form_version), and that version keeps validating it. A new version may
// say how records of older versions map onto it (renamed fields, defaults of new fields):
// upgradeFields applies that.
//
// Values by field type (all strings NFC):
//   text          string                    min_length / max_length in characters
//   integer       int                       min / max
//   decimal       int or double             min / max
//   money         int, whole VND, >= 0      min / max
//   date          string "YYYY-MM-DD", a real date; min / max as dates
//   choice        string: one choice code
//   multi_choice  list of distinct choice codes; min_items / max_items
//   yes_no        bool
//   gps           map {"lat": -90..90, "lon": -180..180, "accuracy_m"?: >= 0}
//   photo, file   string: the SHA-256 of the content, 64 lowercase hex digits
//   group         list of maps, each checked against the group's own fields; min_items / max_items
// A null value is an absent value. A field asked only when a condition holds ("relevant") is
// required only then.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/storage/result.hpp"
#include "communesync/sync/value.hpp"

namespace communesync::sync {

enum class FieldType : std::uint8_t {
  kText,
  kInteger,
  kDecimal,
  kMoney,
  kDate,
  kChoice,
  kMultiChoice,
  kYesNo,
  kGps,
  kPhoto,
  kFile,
  kGroup,
};

std::string_view fieldTypeName(FieldType type);

//! Text shown to people: Vietnamese first, with English.
struct Label {
  std::string vi;
  std::string en;
};

struct Choice {
  std::string code;
  Label label;
};

//! "Ask this field only when `field` ...": equals one of `any_of`, or (if empty) has any value.
struct Condition {
  std::string field;
  std::vector<Value> any_of;
};

struct FormField {
  std::string name;
  FieldType type = FieldType::kText;
  bool required = false;
  Label label;
  Label hint;
  std::optional<double> min;  //!< numbers; dates as days since 1970-01-01
  std::optional<double> max;
  std::optional<std::size_t> min_length;  //!< text, in characters
  std::optional<std::size_t> max_length;
  std::optional<std::size_t> min_items;  //!< multi_choice, group
  std::optional<std::size_t> max_items;
  std::vector<Choice> choices;
  std::optional<Condition> relevant;
  std::vector<FormField> fields;  //!< group: its sub-fields
};

//! How records of older versions become records of this one.
struct FormUpgrade {
  std::map<std::string, std::string> renamed;  //!< old field name -> new field name
  std::map<std::string, Value> defaults;       //!< a new field -> the value old records get
};

struct Form {
  std::string name;           //!< the collection it defines
  std::uint32_t version = 0;  //!< given by the server at publication; 0 in a file
  Label title;
  std::vector<FormField> fields;
  FormUpgrade upgrade;

  const FormField* field(std::string_view name) const;
};

//! One reason a record does not fit its form.
struct FieldError {
  std::string field;   //!< the field's path: "so_nhan_khau", "thanh_vien[2].tuoi"
  std::string reason;  //!< Vietnamese / English, e.g. "phải từ 1 trở lên / must be at least 1"
  //! "field: reason", as shown to people and sent back in a rejected change's result.
  std::string text() const { return field + ": " + reason; }
};

//! Reads a form file (JSON). Errors: kInvalidArgument naming the place ("fields[3].choices: ...").
Result<Form> parseForm(std::string_view json_text);
//! The form as JSON text (what parseForm reads; carries the version).
std::string formToJson(const Form& form);

//! Every way `fields` (a record's live values) break `form`; empty if none.
std::vector<FieldError> validate(const Form& form, const std::map<std::string, Value>& fields);
//! All errors as one line ("a: ...; b: ..."), for a change's rejection reason.
std::string errorsText(const std::vector<FieldError>& errors);

//! The assignments that carry a record of an older version onto `form`: each renamed field's value
//! under its new name (and null under the old), and each default not yet set. Empty if none.
std::map<std::string, Value> upgradeFields(const Form& form, const std::map<std::string, Value>& fields);

}  // namespace communesync::sync
