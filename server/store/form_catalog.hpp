// The forms the server knows, every published version of each. Forms are data: each version is a
// record of collection "_forms" (id NAME@VERSION, scope "_forms", readable by every device), so
// devices get them by the ordinary pull. This catalog is the server's parsed view of those records.
//
// Thread-safe: the writer thread reads it for every change; publishing adds to it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "access/access.hpp"
#include "communesync/storage/store.hpp"
#include "communesync/sync/change.hpp"
#include "communesync/sync/form.hpp"

namespace communesync::server {

class FormCatalog {
 public:
  //! Reads every published form from the store's records. Errors: kCorruption naming the form.
  static Result<std::unique_ptr<FormCatalog>> open(const storage::Store& store);
  //! Reads every published form again (another server on the same store published one).
  Status reload(const storage::Store& store);

  //! Collections without a form are refused (Config::require_forms) instead of staying free-form.
  void requireForms(bool on) { require_forms_ = on; }
  bool formsRequired() const { return require_forms_; }

  //! The form of `collection` at `version` (0: the latest), or nullptr.
  std::shared_ptr<const sync::Form> find(std::string_view collection, std::uint32_t version = 0) const;
  //! Every version of every form, by name then version.
  std::vector<std::shared_ptr<const sync::Form>> all() const;

  //! The change that publishes `form` as the next version of its name (version set in `form`), as
  //! the server's own device. Apply it through the writer, then call added().
  sync::Change publication(sync::Form& form, std::int64_t now_ms) const;
  //! Records a publication once it is durable.
  void added(sync::Form form);

  //! Checks a change against its form before the merge: pins a change with no version to the
  //! latest, refuses an unknown version, and (if forms are required) a collection without one.
  //! Ok, or kInvalidArgument with the reason.
  Status pin(sync::Change& change) const;
  //! Checks the record a change produced. Ok, or kInvalidArgument with the field-level reasons.
  Status check(const sync::Record& merged) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::uint32_t, std::shared_ptr<const sync::Form>>, std::less<>> forms_;
  bool require_forms_ = false;
};

//! The device id the server writes its own changes under (form publications).
sync::DeviceId serverDeviceId();
//! The device id of the changes that settle conflicts (each resolution is numbered apart from the
//! publications, so their change ids never meet).
sync::DeviceId reconcilerDeviceId();
//! True for the ids above (and the range they sit in): no device may say hello with one.
bool isServerDeviceId(const sync::DeviceId& id);

}  // namespace communesync::server
