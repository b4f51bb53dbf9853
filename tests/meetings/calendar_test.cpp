// Calendar files: the iCalendar writer, a user's feed and one meeting's
// download, read back with libical; over real sockets from a real server.
#include "server/services/calendar.h"

#include <arpa/inet.h>
#include <date/tz.h>
#include <gtest/gtest.h>
#include <libical/ical.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "server/services/accounts.h"
#include "server/services/record_io.h"
#include "storage/keys.h"
#include "tests/harness/services_harness.h"
#include "tests/meetings/reminders_fixtures.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::testing {
namespace {

using harness::frame;
using harness::ServicesHarness;
using storage::Cf;

int64_t utc_ms(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  using namespace std::chrono;
  const auto t = date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + hours{h} + minutes{mi};
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// Wall-clock time in a zone, as a person schedules it.
int64_t local_ms(const char* zone, int y, unsigned mo, unsigned d, int h, int mi = 0) {
  using namespace std::chrono;
  const auto local =
      date::local_days{date::year{y} / date::month{mo} / date::day{d}} + hours{h} + minutes{mi};
  const auto sys = date::make_zoned(zone, local).get_sys_time();
  return duration_cast<milliseconds>(sys.time_since_epoch()).count();
}

// ---- Reading iCalendar with libical ----

struct ParsedEvent {
  std::string uid;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool utc = false;
  int sequence = -1;
  icalproperty_status status = ICAL_STATUS_NONE;
  std::string summary;
  std::string description;
  std::string location;
  std::string organizer;
  std::vector<std::string> attendees;
};

struct ParsedCalendar {
  bool ok = false;
  int errors = 0;  // properties libical could not parse
  icalproperty_method method = ICAL_METHOD_NONE;
  std::vector<ParsedEvent> events;
};

std::string str(const char* s) { return s ? s : ""; }

ParsedCalendar parse(const std::string& ics) {
  ParsedCalendar out;
  icalcomponent* cal = icalparser_parse_string(ics.c_str());
  if (cal == nullptr) return out;
  out.ok = icalcomponent_isa(cal) == ICAL_VCALENDAR_COMPONENT;
  out.errors = icalcomponent_count_errors(cal);
  out.method = icalcomponent_get_method(cal);
  for (icalcomponent* ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev != nullptr;
       ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
    ParsedEvent e;
    e.uid = str(icalcomponent_get_uid(ev));
    const icaltimetype start = icalcomponent_get_dtstart(ev);
    const icaltimetype end = icalcomponent_get_dtend(ev);
    e.utc = icaltime_is_utc(start) && icaltime_is_utc(end);
    e.start_ms = static_cast<int64_t>(icaltime_as_timet(start)) * 1000;
    e.end_ms = static_cast<int64_t>(icaltime_as_timet(end)) * 1000;
    e.sequence = icalcomponent_get_sequence(ev);
    e.status = icalcomponent_get_status(ev);
    e.summary = str(icalcomponent_get_summary(ev));
    e.description = str(icalcomponent_get_description(ev));
    e.location = str(icalcomponent_get_location(ev));
    if (icalproperty* org = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY))
      e.organizer = str(icalproperty_get_organizer(org));
    for (icalproperty* a = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); a != nullptr;
         a = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
      std::string cn;
      if (icalparameter* p = icalproperty_get_first_parameter(a, ICAL_CN_PARAMETER))
        cn = str(icalparameter_get_cn(p));
      e.attendees.push_back(cn + " <" + str(icalproperty_get_attendee(a)) + ">");
    }
    out.events.push_back(std::move(e));
  }
  icalcomponent_free(cal);
  return out;
}

// Every line ends with CRLF and has at most 75 octets.
void expect_well_formed_lines(const std::string& ics) {
  ASSERT_GE(ics.size(), 2u);
  EXPECT_EQ(ics.substr(ics.size() - 2), "\r\n");
  size_t at = 0;
  while (at < ics.size()) {
    const size_t crlf = ics.find("\r\n", at);
    ASSERT_NE(crlf, std::string::npos) << "a line without CRLF at " << at;
    const std::string line = ics.substr(at, crlf - at);
    EXPECT_LE(line.size(), 75u) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find('\r'), std::string::npos) << line;
    at = crlf + 2;
  }
}

// ---- The writer ----

TEST(ICalendarWriter, EscapesTextAndFoldsLongLinesBetweenCharacters) {
  EXPECT_EQ(services::ical_escape_text("a,b;c\\d\ne\r\nf\x01g"), "a\\,b\\;c\\\\d\\ne\\nfg");
  EXPECT_EQ(services::ical_fold("SUMMARY:short"), "SUMMARY:short\r\n");
  // 200 two-octet characters: folded, never inside a character, and
  // unfolding gives the line back.
  std::string line = "DESCRIPTION:";
  for (int i = 0; i < 200; ++i) line += "\xc3\xa5";  // å
  const std::string folded = services::ical_fold(line);
  expect_well_formed_lines(folded);
  std::string unfolded;
  size_t at = 0;
  while (at < folded.size()) {
    const size_t crlf = folded.find("\r\n", at);
    std::string piece = folded.substr(at, crlf - at);
    if (at > 0) {
      ASSERT_EQ(piece[0], ' ');
      piece.erase(0, 1);
    }
    // No piece starts with a UTF-8 continuation byte.
    if (!piece.empty()) {
      EXPECT_NE(static_cast<unsigned char>(piece[0]) & 0xC0, 0x80);
    }
    unfolded += piece;
    at = crlf + 2;
  }
  EXPECT_EQ(unfolded, line);
  EXPECT_EQ(services::ical_utc(utc_ms(2026, 12, 1, 15)), "20261201T150000Z");
}

TEST(ICalendarWriter, LibicalReadsWhatItWrites) {
  services::CalendarEntry e;
  e.meeting.set_id(42);
  e.meeting.set_mentor_id(1);
  e.meeting.set_mentee_id(2);
  e.meeting.set_proposed_by(2);
  e.meeting.set_state(v1::MEETING_STATE_PROPOSED);
  e.meeting.set_start_ms(utc_ms(2026, 12, 1, 15));
  e.meeting.set_duration_minutes(45);
  e.meeting.set_revision(1);
  e.meeting.set_agenda("Residency applications, step 2; \\ and a\nsecond line with ünïcödé and a long tail " +
                       std::string(120, 'x'));
  e.meeting.mutable_where()->set_kind(v1::WHERE_KIND_LINK);
  e.meeting.mutable_where()->set_detail("https://meet.example.org/room,1");
  e.mentor_name = "Lind, Anna \"Dr\"";
  e.mentee_name = "Wei Chen";
  const std::string ics =
      services::write_icalendar(services::CalendarMethod::kRequest, {e}, utc_ms(2026, 11, 1, 8));
  expect_well_formed_lines(ics);
  ParsedCalendar cal = parse(ics);
  ASSERT_TRUE(cal.ok) << ics;
  EXPECT_EQ(cal.errors, 0) << ics;
  EXPECT_EQ(cal.method, ICAL_METHOD_REQUEST);
  ASSERT_EQ(cal.events.size(), 1u);
  const ParsedEvent& ev = cal.events[0];
  EXPECT_EQ(ev.uid, "meeting-42@preceptor");
  EXPECT_TRUE(ev.utc);
  EXPECT_EQ(ev.start_ms, utc_ms(2026, 12, 1, 15));
  EXPECT_EQ(ev.end_ms, utc_ms(2026, 12, 1, 15, 45));
  EXPECT_EQ(ev.status, ICAL_STATUS_TENTATIVE);
  EXPECT_EQ(ev.description, e.meeting.agenda());
  EXPECT_EQ(ev.location, "https://meet.example.org/room,1");
  EXPECT_EQ(ev.summary, "Mentorship meeting: Lind, Anna \"Dr\" and Wei Chen");
  EXPECT_EQ(ev.organizer, "mailto:user-2@users.preceptor.invalid");
  ASSERT_EQ(ev.attendees.size(), 2u);
  EXPECT_EQ(ev.attendees[0], "Lind, Anna 'Dr' <mailto:user-1@users.preceptor.invalid>");
  EXPECT_EQ(ev.attendees[1], "Wei Chen <mailto:user-2@users.preceptor.invalid>");
}

// ---- The service, through the harness ----

class CalendarFeed : public ::testing::Test {
 protected:
  CalendarFeed() : calendar(h.store(), h.committer(), h.accounts(), h.clock()) {
    h.clock().set_ms(utc_ms(2026, 10, 1, 9));
    mentor = h.add_user("dr.lind", v1::ROLE_MENTOR);
    mentee = h.add_user("wei.chen", v1::ROLE_MENTEE);
    other = h.add_user("sam.other", v1::ROLE_MENTEE);
  }

  uint64_t meeting_at(int64_t start_ms, v1::MeetingState state = v1::MEETING_STATE_ACCEPTED) {
    return create_meeting(
        h.committer(),
        {.mentor_id = mentor.id(), .mentee_id = mentee.id(), .start_ms = start_ms, .state = state});
  }

  // A new feed for `who`; its secret (from the path).
  std::string rotate(const v1::User& who) {
    v1::Response r = h.call(h.caller(who), frame(&v1::ClientFrame::mutable_rotate_calendar_feed));
    EXPECT_TRUE(r.has_rotate_calendar_feed()) << r.DebugString();
    const std::string path = r.rotate_calendar_feed().path();
    const std::string prefix = "/v1/calendar/";
    EXPECT_EQ(path.rfind(prefix, 0), 0u) << path;
    EXPECT_TRUE(path.ends_with(".ics")) << path;
    if (path.size() < prefix.size() + 4) return {};
    return path.substr(prefix.size(), path.size() - prefix.size() - 4);
  }

  ParsedCalendar feed(const std::string& secret) {
    auto body = calendar.feed(secret);
    EXPECT_TRUE(body.is_ok()) << body.status().to_string();
    if (!body) return {};
    expect_well_formed_lines(*body);
    last_body = *body;
    return parse(*body);
  }

  ServicesHarness h;
  services::Calendar calendar;
  v1::User mentor;
  v1::User mentee;
  v1::User other;
  std::string last_body;
};

TEST_F(CalendarFeed, TimesAreUtcOnEitherSideOfTheChangeFromSummerTime) {
  // 10:00 in Stockholm on Friday 23 October (CEST, UTC+2) and on Monday 26
  // October 2026 (CET, UTC+1: the clocks went back on the 25th).
  meeting_at(local_ms("Europe/Stockholm", 2026, 10, 23, 10));
  meeting_at(local_ms("Europe/Stockholm", 2026, 10, 26, 10));
  const std::string secret = rotate(mentee);
  ParsedCalendar cal = feed(secret);
  ASSERT_TRUE(cal.ok);
  EXPECT_EQ(cal.errors, 0) << last_body;
  EXPECT_EQ(cal.method, ICAL_METHOD_PUBLISH);
  ASSERT_EQ(cal.events.size(), 2u) << last_body;
  EXPECT_TRUE(cal.events[0].utc);
  EXPECT_EQ(cal.events[0].start_ms, utc_ms(2026, 10, 23, 8));
  EXPECT_EQ(cal.events[0].end_ms, utc_ms(2026, 10, 23, 9));
  EXPECT_EQ(cal.events[1].start_ms, utc_ms(2026, 10, 26, 9));
  EXPECT_NE(last_body.find("DTSTART:20261023T080000Z\r\n"), std::string::npos) << last_body;
  EXPECT_NE(last_body.find("DTSTART:20261026T090000Z\r\n"), std::string::npos) << last_body;
}

TEST_F(CalendarFeed, AMeetingKeepsItsUidWhileItsSequenceGrowsUntilItIsCancelled) {
  const int64_t start = utc_ms(2026, 10, 20, 13);
  const uint64_t id = meeting_at(start);
  const std::string secret = rotate(mentor);
  ParsedCalendar first = feed(secret);
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(first.events[0].uid, "meeting-" + std::to_string(id) + "@preceptor");
  EXPECT_EQ(first.events[0].status, ICAL_STATUS_CONFIRMED);

  ASSERT_TRUE(
      change_meeting(h.committer(), id, [&](v1::Meeting& m) { m.set_start_ms(start + kDay); }).is_ok());
  ParsedCalendar moved = feed(secret);
  ASSERT_EQ(moved.events.size(), 1u);
  EXPECT_EQ(moved.events[0].uid, first.events[0].uid);
  EXPECT_GT(moved.events[0].sequence, first.events[0].sequence);
  EXPECT_EQ(moved.events[0].start_ms, start + kDay);

  ASSERT_TRUE(change_meeting(
                  h.committer(), id, [](v1::Meeting& m) { m.set_state(v1::MEETING_STATE_CANCELLED); },
                  v1::MEETING_CHANGE_CANCELLED)
                  .is_ok());
  ParsedCalendar cancelled = feed(secret);
  ASSERT_EQ(cancelled.events.size(), 1u);
  EXPECT_EQ(cancelled.events[0].uid, first.events[0].uid);
  EXPECT_EQ(cancelled.events[0].status, ICAL_STATUS_CANCELLED);
  EXPECT_GT(cancelled.events[0].sequence, moved.events[0].sequence);

  // The download of a cancelled meeting cancels it in the calendar.
  auto download = calendar.meeting(mentee, id);
  ASSERT_TRUE(download.is_ok());
  EXPECT_TRUE(download->cancelled);
  ParsedCalendar one = parse(download->body);
  EXPECT_EQ(one.method, ICAL_METHOD_CANCEL);
  ASSERT_EQ(one.events.size(), 1u);
  EXPECT_EQ(one.events[0].status, ICAL_STATUS_CANCELLED);
}

TEST_F(CalendarFeed, NotesNeverAppearOnlyTheAgenda) {
  const uint64_t id = meeting_at(utc_ms(2026, 10, 20, 13));
  ASSERT_TRUE(change_meeting(
                  h.committer(), id, [](v1::Meeting& m) { m.set_shared_notes("SHARED-NOTE-TEXT"); },
                  v1::MEETING_CHANGE_NOTES)
                  .is_ok());
  ASSERT_TRUE(commit_and_wait(h.committer(), [&](storage::CommitContext& ctx) {
                ctx.put(Cf::kMeetingPrivateNotes,
                        storage::keys::MeetingPrivateNotes{.meeting_id = id, .user_id = mentee.id()}.encode(),
                        "PRIVATE-NOTE-TEXT");
                return Status::ok();
              }).is_ok());
  ParsedCalendar cal = feed(rotate(mentee));
  ASSERT_EQ(cal.events.size(), 1u);
  EXPECT_EQ(cal.events[0].description, "Career plans");
  EXPECT_EQ(last_body.find("PRIVATE-NOTE-TEXT"), std::string::npos);
  EXPECT_EQ(last_body.find("SHARED-NOTE-TEXT"), std::string::npos);
  auto download = calendar.meeting(mentee, id);
  ASSERT_TRUE(download.is_ok());
  EXPECT_EQ(download->body.find("PRIVATE-NOTE-TEXT"), std::string::npos);
}

TEST_F(CalendarFeed, OnlyTheUsersOwnMeetingsInTheWindowAndOnlyMembersDownloadOne) {
  const uint64_t proposed = meeting_at(utc_ms(2026, 10, 20, 13), v1::MEETING_STATE_PROPOSED);
  meeting_at(utc_ms(2026, 10, 1, 9) + services::kFeedAheadMs + kDay);  // beyond the window
  create_meeting(h.committer(),
                 {.mentor_id = mentor.id(), .mentee_id = other.id(), .start_ms = utc_ms(2026, 10, 21, 13)});
  ParsedCalendar cal = feed(rotate(mentee));
  ASSERT_EQ(cal.events.size(), 1u) << last_body;
  EXPECT_EQ(cal.events[0].status, ICAL_STATUS_TENTATIVE);
  EXPECT_EQ(feed(rotate(mentor)).events.size(), 2u);

  auto mine = calendar.meeting(mentee, proposed);
  ASSERT_TRUE(mine.is_ok());
  EXPECT_EQ(parse(mine->body).method, ICAL_METHOD_REQUEST);
  auto theirs = calendar.meeting(other, proposed);
  ASSERT_FALSE(theirs.is_ok());
  EXPECT_EQ(theirs.status().code(), v1::ERROR_CODE_NOT_FOUND);
  auto none = calendar.meeting(mentee, 999999);
  ASSERT_FALSE(none.is_ok());
  EXPECT_EQ(none.status().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(none.status().message(), theirs.status().message().substr(0, 11) + "999999 among yours.");
}

TEST_F(CalendarFeed, RotatingMakesTheOldSecretUnknownAndKeepsThePreferences) {
  v1::SetMeetingPreferences set;
  set.mutable_preferences()->add_reminder_minutes(30);
  ASSERT_TRUE(h.call(h.caller(mentee), frame(&v1::ClientFrame::mutable_set_meeting_preferences, set))
                  .has_set_meeting_preferences());
  const std::string old_secret = rotate(mentee);
  const std::string new_secret = rotate(mentee);
  EXPECT_NE(old_secret, new_secret);
  auto old_feed = calendar.feed(old_secret);
  ASSERT_FALSE(old_feed.is_ok());
  EXPECT_EQ(old_feed.status().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_TRUE(calendar.feed(new_secret).is_ok());
  EXPECT_FALSE(calendar.feed("not-a-secret").is_ok());
  // One feed entry for the user, and the preferences untouched.
  size_t feeds = 0;
  ASSERT_TRUE(h.store()
                  .scan(Cf::kCalendarFeeds, {},
                        [&](std::string_view, std::string_view) {
                          ++feeds;
                          return true;
                        })
                  .is_ok());
  EXPECT_EQ(feeds, 1u);
  v1::Response got = h.call(h.caller(mentee), frame(&v1::ClientFrame::mutable_get_meeting_preferences));
  ASSERT_EQ(got.get_meeting_preferences().preferences().reminder_minutes_size(), 1);
  EXPECT_EQ(got.get_meeting_preferences().preferences().reminder_minutes(0), 30u);
  // Setting preferences keeps the feed.
  ASSERT_TRUE(h.call(h.caller(mentee), frame(&v1::ClientFrame::mutable_set_meeting_preferences, set))
                  .has_set_meeting_preferences());
  EXPECT_TRUE(calendar.feed(new_secret).is_ok());
}

// ---- Over real sockets ----

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// One GET over a fresh connection; `extra` are more header lines, each
// ending in CRLF. Bounded by socket timeouts.
HttpReply http_fetch(uint16_t port, const std::string& path, const std::string& extra = {}) {
  HttpReply out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra + "\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return out;
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.rfind("HTTP/1.1 ", 0) != 0) return out;
  out.status = std::stoi(raw.substr(9, 3));
  size_t at = raw.find("\r\n") + 2;
  while (at < head_end) {
    const size_t eol = raw.find("\r\n", at);
    const std::string line = raw.substr(at, eol - at);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      out.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    at = eol + 2;
  }
  out.body = raw.substr(head_end + 4);
  return out;
}

TEST(CalendarOverHttp, TheFeedAndOneMeetingFromARealServer) {
  TempDir dir;
  ManualClock clock(utc_ms(2026, 12, 1, 9));
  TestServer server(test_config(dir.data()), &clock);
  const v1::User mentor = server.add_user("dr.lind", v1::ROLE_MENTOR);
  const v1::User mentee = server.add_user("wei.chen", v1::ROLE_MENTEE);
  server.add_user("sam.other", v1::ROLE_MENTEE);
  const uint64_t id = create_meeting(
      server.server().committer(),
      {.mentor_id = mentor.id(), .mentee_id = mentee.id(), .start_ms = utc_ms(2026, 12, 3, 15)});
  ASSERT_NE(id, 0u);

  TestClient client;
  ASSERT_EQ(client.connect(server.port()), "");
  auto login = client.login("wei.chen", TestServer::password_of("wei.chen"));
  ASSERT_TRUE(login.has_login()) << login.DebugString();
  auto rotate = [&] {
    v1::ClientFrame f;
    f.set_request_id(client.next_request_id());
    f.mutable_rotate_calendar_feed();
    auto r = client.call(f);
    EXPECT_TRUE(r && r->has_rotate_calendar_feed()) << (r ? r->DebugString() : "no answer");
    return r ? r->rotate_calendar_feed().path() : std::string();
  };

  const std::string old_path = rotate();
  HttpReply feed = http_fetch(server.port(), old_path);
  ASSERT_EQ(feed.status, 200) << feed.body;
  EXPECT_EQ(feed.headers["content-type"], "text/calendar; charset=utf-8");
  EXPECT_NE(feed.headers["cache-control"].find("no-store"), std::string::npos);
  EXPECT_NE(feed.headers["cache-control"].find("private"), std::string::npos);
  ParsedCalendar cal = parse(feed.body);
  EXPECT_EQ(cal.method, ICAL_METHOD_PUBLISH);
  ASSERT_EQ(cal.events.size(), 1u) << feed.body;
  EXPECT_EQ(cal.events[0].start_ms, utc_ms(2026, 12, 3, 15));

  const std::string new_path = rotate();
  EXPECT_NE(new_path, old_path);
  EXPECT_EQ(http_fetch(server.port(), old_path).status, 404);
  EXPECT_EQ(http_fetch(server.port(), new_path).status, 200);
  EXPECT_EQ(http_fetch(server.port(), "/v1/calendar/" + std::string(64, '0') + ".ics").status, 404);
  EXPECT_EQ(http_fetch(server.port(), "/v1/calendar/whatever").status, 404);

  const std::string meeting_path = "/v1/meetings/" + std::to_string(id) + ".ics";
  const std::string bearer = "Authorization: Bearer " + login.login().token() + "\r\n";
  HttpReply one = http_fetch(server.port(), meeting_path, bearer);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.headers["content-disposition"],
            "attachment; filename=\"meeting-" + std::to_string(id) + ".ics\"");
  EXPECT_EQ(one.headers["content-type"].rfind("text/calendar; charset=utf-8", 0), 0u);
  ParsedCalendar single = parse(one.body);
  EXPECT_EQ(single.method, ICAL_METHOD_REQUEST);
  ASSERT_EQ(single.events.size(), 1u);
  EXPECT_EQ(single.events[0].uid, "meeting-" + std::to_string(id) + "@preceptor");

  EXPECT_EQ(http_fetch(server.port(), meeting_path).status, 401);  // no token
  EXPECT_EQ(http_fetch(server.port(), "/v1/meetings/999999.ics", bearer).status, 404);
  TestClient stranger;
  ASSERT_EQ(stranger.connect(server.port()), "");
  auto other_login = stranger.login("sam.other", TestServer::password_of("sam.other"));
  ASSERT_TRUE(other_login.has_login());
  HttpReply refused = http_fetch(server.port(), meeting_path,
                                 "Authorization: Bearer " + other_login.login().token() + "\r\n");
  EXPECT_EQ(refused.status, 404);
  EXPECT_EQ(refused.body.find("Career plans"), std::string::npos);
}

}  // namespace
}  // namespace preceptor::testing
