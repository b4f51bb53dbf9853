#pragma once

#include "common/clock.h"
#include "server/services/audit.h"
#include "server/services/calls.h"
#include "server/services/document_options.h"
#include "server/services/usage.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::hub {
class Hub;
}

namespace preceptor::services {

class Accounts;
class BusyMirror;
class Membership;

// What every service module is built from: the store and its single
// writer, the hub, the clock, and the shared services every other one asks
// (who is who, who belongs to which mentorship). Owned by the app; outlives
// every module.
struct Core {
  storage::Store& store;
  storage::Committer& committer;
  hub::Hub& hub;
  const Clock& clock;                     // dates
  const MonotonicClock& monotonic_clock;  // rate limits
  Accounts& accounts;
  Membership& membership;
  BusyMirror& busy_mirror;         // the accepted meetings of mentors whose slots are listed
  StorageQuota quota;              // per user
  AuditOptions audit = {};         // the security log's retention
  CallOptions calls = {};          // ICE servers and TURN credentials, call limits
  DocumentOptions documents = {};  // the upload size limit
};

}  // namespace preceptor::services
