#pragma once

// The portfolio: a mentee's work in one mentorship as one .zip, for the
// mentee or the mentor to keep (also after the mentorship ended). Holds the
// approved version of each assignment (its document as uploaded), every
// review with its comments and replies, each goal with its history, the
// reassessments, and index.md listing everything. Built with libzip into a
// temporary file (the documents are read piece by piece from the store,
// never held whole), then served as a download. Internal to
// server/services; the module (portfolio_api.cpp) adds the route.

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "server/services/accounts.h"
#include "server/services/membership.h"
#include "storage/store.h"

namespace preceptor::services {

// The documents of one portfolio add up to at most this (approved versions).
inline constexpr uint64_t kMaxPortfolioDocumentBytes = 1ULL << 30;

struct PortfolioFile {
  std::filesystem::path path;  // a temporary .zip; the caller removes it
  std::string download_name;   // e.g. "portfolio-12-tomas-novak.zip"
  uint64_t size = 0;
};

class Portfolio {
 public:
  Portfolio(const storage::Store& store, const Membership& membership, const Accounts& accounts,
            const Clock& clock)
      : store_(store), membership_(membership), accounts_(accounts), clock_(clock) {}

  // Writes mentorship `mentorship_id`'s portfolio into a new file in
  // `folder`. Who: the mentor and the mentee (any state of the mentorship);
  // others NOT_FOUND, directors and admins PERMISSION_DENIED (work_member).
  // RESOURCE_EXHAUSTED when the approved documents pass
  // kMaxPortfolioDocumentBytes. Blocking (reads the store, writes the
  // disk): call it off the network threads.
  Result<PortfolioFile> build(const v1::User& actor, uint64_t mentorship_id,
                              const std::filesystem::path& folder) const;

 private:
  const storage::Store& store_;
  const Membership& membership_;
  const Accounts& accounts_;
  const Clock& clock_;
};

}  // namespace preceptor::services
