#include "server/services/calendar.h"

#include <date/date.h>

#include <chrono>
#include <map>
#include <memory>

#include "server/services/accounts.h"
#include "server/services/meeting_book.h"
#include "server/services/record_io.h"
#include "server/services/token_crypto.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

constexpr size_t kFoldOctets = 75;

std::string calendar_address(uint64_t user_id) {
  return "mailto:user-" + std::to_string(user_id) + "@users.preceptor.invalid";
}

// A parameter value, always quoted: DQUOTE and control characters cannot
// appear inside one (RFC 5545 3.1), so they are replaced or dropped.
std::string quoted_param(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') {
      out += '\'';
    } else if (u >= 0x20 && u != 0x7f) {
      out += c;
    }
  }
  out += '"';
  return out;
}

// A URI value: no escaping in iCalendar, but never a control character.
std::string uri_value(std::string_view value) {
  std::string out;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) out += c;
  }
  return out;
}

std::string_view status_of(v1::MeetingState state) {
  switch (state) {
    case v1::MEETING_STATE_PROPOSED:
      return "TENTATIVE";
    case v1::MEETING_STATE_DECLINED:
    case v1::MEETING_STATE_CANCELLED:
      return "CANCELLED";
    default:
      return "CONFIRMED";
  }
}

bool is_called_off(v1::MeetingState state) {
  return state == v1::MEETING_STATE_DECLINED || state == v1::MEETING_STATE_CANCELLED;
}

std::string_view partstat_of(const v1::Meeting& m, uint64_t user_id) {
  if (m.proposed_by() == user_id) return "ACCEPTED";
  switch (m.state()) {
    case v1::MEETING_STATE_PROPOSED:
      return "NEEDS-ACTION";
    case v1::MEETING_STATE_DECLINED:
      return "DECLINED";
    default:
      return "ACCEPTED";
  }
}

void add_line(std::string& out, std::string_view line) { out += ical_fold(line); }

void add_event(std::string& out, const CalendarEntry& entry, const std::string& stamp) {
  const v1::Meeting& m = entry.meeting;
  add_line(out, "BEGIN:VEVENT");
  add_line(out, "UID:meeting-" + std::to_string(m.id()) + "@preceptor");
  add_line(out, "DTSTAMP:" + stamp);
  add_line(out, "DTSTART:" + ical_utc(m.start_ms()));
  add_line(out, "DTEND:" + ical_utc(meeting_end_ms(m)));
  add_line(out, "SEQUENCE:" + std::to_string(m.revision()));
  add_line(out, "STATUS:" + std::string(status_of(m.state())));
  const std::string summary = m.office_hours()
                                  ? "Office hours: " + entry.mentor_name + " with " + entry.mentee_name
                                  : "Mentorship meeting: " + entry.mentor_name + " and " + entry.mentee_name;
  add_line(out, "SUMMARY:" + ical_escape_text(summary));
  if (!m.agenda().empty()) add_line(out, "DESCRIPTION:" + ical_escape_text(m.agenda()));
  switch (m.where().kind()) {
    case v1::WHERE_KIND_PLACE:
      add_line(out, "LOCATION:" + ical_escape_text(m.where().detail()));
      break;
    case v1::WHERE_KIND_PHONE:
      add_line(out, "LOCATION:" + ical_escape_text("Phone: " + m.where().detail()));
      break;
    case v1::WHERE_KIND_LINK:
      add_line(out, "LOCATION:" + ical_escape_text(m.where().detail()));
      add_line(out, "URL:" + uri_value(m.where().detail()));
      break;
    default:
      add_line(out, "LOCATION:Preceptor call (in the app)");
      break;
  }
  const uint64_t organizer = m.proposed_by() != 0 ? m.proposed_by() : m.mentor_id();
  const std::string& organizer_name = organizer == m.mentee_id() ? entry.mentee_name : entry.mentor_name;
  add_line(out, "ORGANIZER;CN=" + quoted_param(organizer_name) + ":" + calendar_address(organizer));
  for (const auto& [id, name] : {std::pair<uint64_t, const std::string&>{m.mentor_id(), entry.mentor_name},
                                 std::pair<uint64_t, const std::string&>{m.mentee_id(), entry.mentee_name}}) {
    add_line(out, "ATTENDEE;CN=" + quoted_param(name) + ";ROLE=REQ-PARTICIPANT;PARTSTAT=" +
                      std::string(partstat_of(m, id)) + ":" + calendar_address(id));
  }
  if (m.created_ms() > 0) add_line(out, "CREATED:" + ical_utc(m.created_ms()));
  if (m.updated_ms() > 0) add_line(out, "LAST-MODIFIED:" + ical_utc(m.updated_ms()));
  add_line(out, "END:VEVENT");
}

}  // namespace

std::string ical_escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        out += "\\n";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (u >= 0x20 && u != 0x7f) out += c;  // other control characters cannot appear in TEXT
        break;
    }
  }
  return out;
}

std::string ical_fold(std::string_view line) {
  std::string out;
  out.reserve(line.size() + line.size() / 70 * 3 + 2);
  size_t taken = 0;
  size_t limit = kFoldOctets;  // the first line; then 74 after the leading space
  while (line.size() - taken > limit) {
    size_t cut = taken + limit;
    // Back up to the start of a UTF-8 character (never past the line's start).
    while (cut > taken && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    if (cut == taken) cut = taken + limit;  // not UTF-8: cut anyway
    out.append(line.substr(taken, cut - taken));
    out += "\r\n ";
    taken = cut;
    limit = kFoldOctets - 1;
  }
  out.append(line.substr(taken));
  out += "\r\n";
  return out;
}

std::string ical_utc(int64_t ms) {
  const auto t = date::floor<std::chrono::seconds>(
      date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
  return date::format("%Y%m%dT%H%M%SZ", t);
}

std::string write_icalendar(CalendarMethod method, const std::vector<CalendarEntry>& entries,
                            int64_t now_ms) {
  std::string out;
  add_line(out, "BEGIN:VCALENDAR");
  add_line(out, "VERSION:2.0");
  add_line(out, "PRODID:-//Preceptor//Meetings//EN");
  add_line(out, "CALSCALE:GREGORIAN");
  switch (method) {
    case CalendarMethod::kPublish:
      add_line(out, "METHOD:PUBLISH");
      add_line(out, "X-WR-CALNAME:Preceptor meetings");
      break;
    case CalendarMethod::kRequest:
      add_line(out, "METHOD:REQUEST");
      break;
    case CalendarMethod::kCancel:
      add_line(out, "METHOD:CANCEL");
      break;
  }
  const std::string stamp = ical_utc(now_ms);
  for (const CalendarEntry& e : entries) add_event(out, e, stamp);
  add_line(out, "END:VCALENDAR");
  return out;
}

void Calendar::rotate_feed(const v1::User& actor, std::function<void(Result<std::string>)> done) {
  const IssuedToken secret = issue_token();
  const uint64_t user_id = actor.id();
  const std::string path = "/v1/calendar/" + secret.token + ".ics";
  commit_with_result<std::string>(
      committer_,
      [user_id, hash = secret.hash, path](storage::CommitContext& ctx, std::string& out) -> Status {
        auto loaded = load_preferences(ctx, user_id);
        if (!loaded) return loaded.status();
        v1::UserPreferencesRecord rec = loaded->value_or(v1::UserPreferencesRecord());
        if (rec.calendar_feed_hash().size() == keys::CalendarFeed::kSize) {
          ctx.del(Cf::kCalendarFeeds, keys::CalendarFeed{.secret_hash = rec.calendar_feed_hash()}.encode());
        }
        ctx.put(Cf::kCalendarFeeds, keys::CalendarFeed{.secret_hash = hash}.encode(),
                storage::encode_u64(user_id));
        rec.set_calendar_feed_hash(hash);
        save(ctx, Cf::kUserPreferences, keys::UserPreferences{.user_id = user_id}.encode(), rec);
        out = path;
        return Status::ok();
      },
      std::move(done));
}

CalendarEntry Calendar::entry_for(const v1::Meeting& m) const {
  CalendarEntry e;
  e.meeting = m;
  auto name = [&](uint64_t id) {
    auto user = accounts_.get_user(id);
    if (!user) return "User " + std::to_string(id);
    return user->display_name().empty() ? user->username() : user->display_name();
  };
  e.mentor_name = name(m.mentor_id());
  e.mentee_name = name(m.mentee_id());
  return e;
}

Result<std::string> Calendar::feed(std::string_view secret) const {
  const Status unknown = not_found("No calendar feed at this address; make a new one in the app.");
  const std::optional<std::string> hash = hash_of_presented_token(secret);
  if (!hash) return unknown;
  auto owner = store_.get(Cf::kCalendarFeeds, keys::CalendarFeed{.secret_hash = *hash}.encode());
  if (!owner) return owner.status();
  if (!owner->has_value()) return unknown;
  const std::optional<uint64_t> user_id = storage::decode_u64(**owner);
  if (!user_id) return data_loss("A stored calendar feed is damaged.");
  auto prefs = load_preferences(store_, *user_id);
  if (!prefs) return prefs.status();
  if (!prefs->has_value() || (*prefs)->calendar_feed_hash() != *hash) return unknown;  // rotated since
  if (!accounts_.get_user(*user_id)) return unknown;

  const int64_t now = clock_.now_ms();
  const auto from = static_cast<uint64_t>(std::max<int64_t>(0, now - kFeedPastMs));
  const auto to = static_cast<uint64_t>(std::max<int64_t>(0, now + kFeedAheadMs));
  std::vector<uint64_t> ids;
  auto scanned = store_.scan(
      Cf::kUserMeetings,
      {.begin = keys::UserMeeting{.user_id = *user_id, .start_ms = from, .meeting_id = 0}.encode(),
       .end = keys::UserMeeting{.user_id = *user_id, .start_ms = to, .meeting_id = 0}.encode()},
      [&](std::string_view key, std::string_view) {
        if (auto entry = keys::UserMeeting::decode(key)) ids.push_back(entry->meeting_id);
        return true;
      },
      {.max_entries = kMaxFeedMeetings});
  if (!scanned) return scanned.status();
  std::vector<CalendarEntry> entries;
  entries.reserve(ids.size());
  std::map<uint64_t, std::string> names;  // each person looked up once
  auto name = [&](uint64_t id) -> const std::string& {
    auto [it, added] = names.try_emplace(id);
    if (added) {
      auto user = accounts_.get_user(id);
      it->second = !user ? "User " + std::to_string(id)
                         : (user->display_name().empty() ? user->username() : user->display_name());
    }
    return it->second;
  };
  for (uint64_t id : ids) {
    auto rec = load_meeting(store_, id);
    if (!rec) return rec.status();
    if (!rec->has_value()) continue;
    const v1::Meeting& m = (*rec)->meeting();
    entries.push_back(
        CalendarEntry{.meeting = m, .mentor_name = name(m.mentor_id()), .mentee_name = name(m.mentee_id())});
  }
  return write_icalendar(CalendarMethod::kPublish, entries, now);
}

Result<Calendar::Download> Calendar::meeting(const v1::User& actor, uint64_t meeting_id) const {
  auto rec = load_meeting(store_, meeting_id);
  if (!rec) return rec.status();
  if (!rec->has_value() ||
      ((*rec)->meeting().mentor_id() != actor.id() && (*rec)->meeting().mentee_id() != actor.id())) {
    return not_found("No meeting " + std::to_string(meeting_id) + " among yours.", "meeting_id");
  }
  const v1::Meeting& m = (*rec)->meeting();
  Download out;
  out.cancelled = is_called_off(m.state());
  out.body = write_icalendar(out.cancelled ? CalendarMethod::kCancel : CalendarMethod::kRequest,
                             {entry_for(m)}, clock_.now_ms());
  return out;
}

}  // namespace preceptor::services
