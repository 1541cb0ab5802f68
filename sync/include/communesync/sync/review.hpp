// Reviews, as people know them from ODK Central: a reconciler of a record's unit marks it approved,
// needs edits (with a comment for the author), or rejected; until then, or once reopened, it is
// received. A review is a record of the system collection _reviews, in the reviewed record's unit,
// so it syncs to that unit's devices like any record: the author's device shows it in status.
// Only the server writes _reviews (the access rule refuses devices), and an edit of a record that
// was approved or needs edits reopens its review (the server writes "received" in the same commit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "communesync/sync/change.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::sync {

inline constexpr std::string_view kReviewsCollection = "_reviews";

enum class ReviewState : std::uint8_t { kReceived, kApproved, kNeedsEdits, kRejected };

//! "received", "approved", "needs_edits", "rejected".
std::string_view reviewStateName(ReviewState state);
std::optional<ReviewState> reviewStateFromName(std::string_view name);

struct Review {
  RecordKey reviewed;
  ReviewState state = ReviewState::kReceived;
  std::string comment;  //!< for the author: what to fix, or why
  std::string by;       //!< who reviewed ("server" when an edit reopened it)
  std::int64_t at_ms = 0;
};

//! The id of the review record of `key` in _reviews: "collection/id".
std::string reviewRecordId(const RecordKey& key);
//! The review a live _reviews record holds; std::nullopt if `record` is not one.
std::optional<Review> reviewOf(const Record& record);
//! A change the server makes to a record of its own (a review, the Committee's grade): every field
//! of `fields` written with one stamp newer than `current` (the record as it is, if any), each
//! having seen that field's stamp, so it wins the merge and records no conflict.
Change serverChange(const RecordKey& key, const Scope& scope, const std::optional<Record>& current,
                    const std::vector<std::pair<std::string, Value>>& fields, ChangeId id, std::int64_t now_ms);
//! The server's change setting the review of `review.reviewed` (a record of `scope`): every field
//! written with a stamp newer than `current` (the review record as it is, if any).
Change reviewChange(const Review& review, const Scope& scope, const std::optional<Record>& current, ChangeId id,
                    std::int64_t now_ms);

}  // namespace communesync::sync
