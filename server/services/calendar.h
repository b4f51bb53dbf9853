#pragma once

// Calendar files (iCalendar, RFC 5545) of meetings: a user's feed, read by
// calendar programs at a secret URL, and one meeting as a download.
// Internal to server/services.
//
// What a meeting shows in a calendar: UID meeting-<id>@preceptor (stable
// whatever changes), SEQUENCE = the meeting's revision, STATUS CONFIRMED
// (accepted, held, no-show), TENTATIVE (proposed) or CANCELLED (declined,
// cancelled), times in UTC, SUMMARY naming the pair, DESCRIPTION = the
// agenda only (never private notes, and not the shared notes either: a feed
// URL is often handed to a third-party calendar service), LOCATION (and URL
// for a link) from `where`. People have no email addresses here, so
// ORGANIZER (who proposed) and ATTENDEE (both members) carry their display
// name as CN and a calendar address that can never reach anyone:
// mailto:user-<id>@users.preceptor.invalid (RFC 2606 reserves .invalid).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/meetings.pb.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

class Accounts;

// The feed covers meetings starting from this long ago to this far ahead,
// at most kMaxFeedMeetings of them (the earliest): with agendas at their
// largest (4000 bytes) a feed stays under about 10 MB.
inline constexpr int64_t kFeedPastMs = 90LL * 24 * 3600 * 1000;
inline constexpr int64_t kFeedAheadMs = 400LL * 24 * 3600 * 1000;
inline constexpr size_t kMaxFeedMeetings = 2000;

// ---- The iCalendar writer ----

// TEXT value escaping: backslash, ';', ',' and newlines (CR LF, LF, CR
// become \n); other control characters are dropped.
std::string ical_escape_text(std::string_view text);
// One content line folded at 75 octets (never inside a UTF-8 character),
// continuation lines starting with a space, and the ending CRLF.
std::string ical_fold(std::string_view line);
// A UTC DATE-TIME: 20261201T150000Z (seconds; milliseconds dropped).
std::string ical_utc(int64_t ms);

enum class CalendarMethod { kPublish, kRequest, kCancel };

// A meeting as a calendar shows it, with its members' names.
struct CalendarEntry {
  v1::Meeting meeting;
  std::string mentor_name;
  std::string mentee_name;
};

// A whole VCALENDAR with one VEVENT per entry. `now_ms` is the DTSTAMP.
std::string write_icalendar(CalendarMethod method, const std::vector<CalendarEntry>& entries, int64_t now_ms);

// ---- The calendar service ----

// Rotating a user's feed secret, and reading feeds and single meetings.
// Thread-safe: reads only committed data outside the committer. The HTTP
// routes call feed() and meeting() on the connection's network thread:
// point reads of the local store, bounded by kMaxFeedMeetings.
class Calendar {
 public:
  Calendar(storage::Store& store, storage::Committer& committer, Accounts& accounts, const Clock& clock)
      : store_(store), committer_(committer), accounts_(accounts), clock_(clock) {}

  // Makes a new feed secret for `actor` (the previous one stops working in
  // the same write) and hands `done` its path, "/v1/calendar/<secret>.ics".
  void rotate_feed(const v1::User& actor, std::function<void(Result<std::string>)> done);

  // The feed (METHOD:PUBLISH) of the user whose secret is `secret`.
  // NOT_FOUND for a secret that is not (or no longer) a feed's.
  Result<std::string> feed(std::string_view secret) const;

  // Meeting `meeting_id` for one of its members: METHOD:REQUEST, or
  // METHOD:CANCEL when it was cancelled or declined. NOT_FOUND for anyone
  // else, as for an id that does not exist.
  struct Download {
    std::string body;
    bool cancelled = false;
  };
  Result<Download> meeting(const v1::User& actor, uint64_t meeting_id) const;

 private:
  CalendarEntry entry_for(const v1::Meeting& m) const;
  storage::Store& store_;
  storage::Committer& committer_;
  Accounts& accounts_;
  const Clock& clock_;
};

}  // namespace preceptor::services
