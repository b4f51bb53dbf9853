#include "server/services/roster.h"

#include <gtest/gtest.h>

#include "tests/services/services_test_util.h"

namespace preceptor::services {
namespace {

using testing::AccountsHarness;

constexpr const char* kHeader = "username,display_name,role,specialty,training_level,time_zone,password\n";

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

// The first error that starts with "line N: ", or "".
std::string error_on_line(const RosterCheck& check, int line) {
  const std::string prefix = "line " + std::to_string(line) + ": ";
  for (const auto& e : check.errors) {
    if (e.rfind(prefix, 0) == 0) return e;
  }
  return "";
}

TEST(Roster, QuotedFieldsKeepCommasAndDoubledQuotes) {
  auto check =
      parse_roster(std::string(kHeader) +
                   "dr.lee,\"Lee, Ana \"\"Annie\"\"\",Mentor,\"Internal medicine, cardiology\",Attending,"
                   "Europe/Berlin,\"pass,word \"\"1\"\"\"\n");
  ASSERT_TRUE(check.ok()) << joined(check.errors);
  ASSERT_EQ(check.rows.size(), 1u);
  const NewUser& u = check.rows[0].user;
  EXPECT_EQ(check.rows[0].line, 2);
  EXPECT_EQ(u.username, "dr.lee");
  EXPECT_EQ(u.display_name, "Lee, Ana \"Annie\"");
  EXPECT_EQ(u.role, v1::ROLE_MENTOR);
  EXPECT_EQ(u.specialty, "Internal medicine, cardiology");
  EXPECT_EQ(u.training_level, "Attending");
  EXPECT_EQ(u.time_zone, "Europe/Berlin");
  EXPECT_EQ(u.password, "pass,word \"1\"");
  EXPECT_FALSE(check.rows[0].password_generated);
}

TEST(Roster, CrlfByteOrderMarkAndBlankLinesAreHandled) {
  const std::string csv =
      "\xEF\xBB\xBF"
      "username,display_name,role,specialty,training_level,time_zone,password\r\n"
      "\r\n"
      "ana,Ana,mentee,,MS3,,secret-password-1\r\n"
      "   \r\n"
      ",,,,,,\r\n"
      "ben,\"Ben \r\nBen\",MENTOR,,,UTC,secret-password-2\r\n"
      "cyd,Cyd,Program Director,,,America/Chicago,secret-password-3";  // no final newline
  auto check = parse_roster(csv);
  // Ben's name spans two lines: that is an error of the name, reported on the row's first line.
  ASSERT_EQ(check.rows.size(), 3u);
  EXPECT_EQ(check.rows[0].line, 3);
  EXPECT_EQ(check.rows[0].user.username, "ana");
  EXPECT_EQ(check.rows[0].user.time_zone, "UTC");               // empty means UTC
  EXPECT_EQ(check.rows[0].user.password, "secret-password-1");  // no stray \r
  EXPECT_EQ(check.rows[1].line, 6);
  EXPECT_EQ(check.rows[1].user.display_name, "Ben \nBen");
  EXPECT_EQ(check.rows[2].line, 8);  // the quoted newline counted as a line
  EXPECT_EQ(check.rows[2].user.role, v1::ROLE_PROGRAM_DIRECTOR);
  EXPECT_EQ(check.rows[2].user.password, "secret-password-3");
  EXPECT_TRUE(check.ok()) << joined(check.errors);  // parse only: the newline is caught by check_roster

  auto full = check_roster(csv, nullptr);
  ASSERT_EQ(full.errors.size(), 1u) << joined(full.errors);
  EXPECT_EQ(full.errors[0], "line 6: The display name must be a single line without control characters.");
}

TEST(Roster, ColumnsAreMatchedByNameAndPasswordsGeneratedWhenAbsent) {
  auto check = parse_roster("Role, Username ,Display Name\nmentee,ana,Ana\ndirector,dee,Dee\n");
  ASSERT_TRUE(check.ok()) << joined(check.errors);
  ASSERT_EQ(check.rows.size(), 2u);
  EXPECT_EQ(check.rows[0].user.username, "ana");
  EXPECT_EQ(check.rows[1].user.role, v1::ROLE_PROGRAM_DIRECTOR);
  for (const auto& row : check.rows) {
    EXPECT_TRUE(row.password_generated);
    EXPECT_EQ(row.user.password.size(), 16u);
    EXPECT_EQ(row.user.password.find_first_of("0O1lI"), std::string::npos);
  }
  EXPECT_NE(check.rows[0].user.password, check.rows[1].user.password);
}

TEST(Roster, EveryKindOfProblemIsReportedOnItsLine) {
  AccountsHarness h;
  ASSERT_TRUE(h.create("taken"));
  const std::string csv = std::string(kHeader) +
                          "ok.one,Ok One,mentee,,,UTC,long enough pw\n"        // 2
                          "bad.role,Bad Role,nurse,,,UTC,long enough pw\n"     // 3
                          ",No Name,mentee,,,UTC,long enough pw\n"             // 4
                          "no.display,,mentor,,,UTC,long enough pw\n"          // 5
                          "bad name!,Bad Name,mentee,,,UTC,long enough pw\n"   // 6
                          "OK.ONE,Dup,mentee,,,UTC,long enough pw\n"           // 7
                          "TAKEN,Taken,mentee,,,UTC,long enough pw\n"          // 8
                          "bad.zone,Zone,mentee,,,Mars/Base,long enough pw\n"  // 9
                          "short,Too Few,mentee\n"                             // 10
                          "short.pw,Short,mentee,,,UTC,tiny\n"                 // 11
                          "two.bad,Two,,,,Nowhere/Land,long enough pw\n"       // 12
                          "\"unclosed,Quote,mentee,,,UTC,long enough pw\n";    // 13
  auto check = check_roster(csv, &h.accounts());
  EXPECT_FALSE(check.ok());
  EXPECT_EQ(error_on_line(check, 2), "") << joined(check.errors);
  EXPECT_EQ(
      error_on_line(check, 3),
      "line 3: The role 'nurse' is not known; use mentee, mentor, program_director (or director) or admin.");
  EXPECT_EQ(error_on_line(check, 4), "line 4: The username is missing.");
  EXPECT_EQ(error_on_line(check, 5), "line 5: The display name is missing.");
  EXPECT_EQ(
      error_on_line(check, 6),
      "line 6: The username may contain only letters, digits, '.', '_', '-' and '@' (3-64 characters).");
  EXPECT_EQ(error_on_line(check, 7),
            "line 7: The username OK.ONE is already used on line 2 of this file (usernames ignore case).");
  EXPECT_EQ(error_on_line(check, 8), "line 8: A user named TAKEN already exists.");
  EXPECT_EQ(error_on_line(check, 9),
            "line 9: The time zone 'Mars/Base' is not a known IANA time zone name; use one such as "
            "Europe/Berlin, America/New_York or UTC.");
  EXPECT_EQ(error_on_line(check, 10),
            "line 10: Expected 7 fields, as in the header, but found 3; put fields that contain commas in "
            "double quotes.");
  EXPECT_EQ(error_on_line(check, 11),
            "line 11: The password must be 10 to 1024 bytes long (this one has 4).");
  // Both problems of one row.
  int line12 = 0;
  for (const auto& e : check.errors) line12 += e.rfind("line 12: ", 0) == 0 ? 1 : 0;
  EXPECT_EQ(line12, 2) << joined(check.errors);
  EXPECT_NE(error_on_line(check, 13).find("closing quote"), std::string::npos) << joined(check.errors);
  // In line order.
  EXPECT_TRUE(std::is_sorted(check.errors.begin(), check.errors.end(),
                             [](const std::string& a, const std::string& b) {
                               return std::stoi(a.substr(5)) < std::stoi(b.substr(5));
                             }))
      << joined(check.errors);
}

TEST(Roster, HeaderProblemsAreReported) {
  auto empty = parse_roster("");
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_EQ(empty.errors[0].rfind("line 1: The file has no header line", 0), 0u) << empty.errors[0];

  auto no_header = parse_roster("ana,Ana,mentee\n");
  ASSERT_FALSE(no_header.ok());
  EXPECT_EQ(no_header.errors[0].rfind("line 1: The header names an unknown column 'ana'", 0), 0u)
      << joined(no_header.errors);

  auto missing = parse_roster("\nusername,display_name\nana,Ana\n");
  ASSERT_EQ(missing.errors.size(), 1u) << joined(missing.errors);
  EXPECT_EQ(missing.errors[0].rfind("line 2: The header has no 'role' column", 0), 0u) << missing.errors[0];

  auto twice = parse_roster("username,role,display_name,Role\n");
  ASSERT_EQ(twice.errors.size(), 1u);
  EXPECT_EQ(twice.errors[0], "line 1: The header names the column 'role' twice.");
}

TEST(Roster, TextAfterAClosingQuoteIsAnErrorOfThatRowOnly) {
  auto check = parse_roster("username,display_name,role\n\"ana\"x,Ana,mentee\nben,Ben,mentee\n");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_EQ(check.errors[0].rfind("line 2: There is text after a closing quote", 0), 0u) << check.errors[0];
  ASSERT_EQ(check.rows.size(), 1u);
  EXPECT_EQ(check.rows[0].user.username, "ben");
  EXPECT_EQ(check.rows[0].line, 3);
}

TEST(Roster, DryRunWritesNothing) {
  AccountsHarness h;
  RosterImportOptions options;
  options.dry_run = true;
  auto r =
      import_roster(h.accounts(), std::string(kHeader) + "ana,Ana,mentee,,,UTC,long enough pw\n", options);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_TRUE(r->check.ok());
  EXPECT_FALSE(r->written);
  EXPECT_TRUE(r->created.empty());
  auto users = h.accounts().list_users();
  ASSERT_TRUE(users);
  EXPECT_TRUE(users->empty());
  EXPECT_TRUE(h.events().empty());
}

TEST(Roster, ImportWritesNothingWhenAnyRowIsBad) {
  AccountsHarness h;
  auto r = import_roster(h.accounts(), std::string(kHeader) +
                                           "ana,Ana,mentee,,,UTC,long enough pw\n"
                                           "ben,Ben,surgeon,,,UTC,long enough pw\n");
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_FALSE(r->check.ok());
  EXPECT_FALSE(r->written);
  EXPECT_EQ(h.accounts().find_user("ana").status().code(), v1::ERROR_CODE_NOT_FOUND);
}

TEST(Roster, ImportCreatesEveryoneAndReportsGeneratedPasswords) {
  AccountsHarness h;
  std::vector<std::pair<size_t, size_t>> progress;
  RosterImportOptions options;
  options.on_hashed = [&](size_t hashed, size_t total) { progress.emplace_back(hashed, total); };
  auto r = import_roster(h.accounts(),
                         "username,display_name,role,time_zone,password\n"
                         "ana,Ana,mentee,Europe/Berlin,\n"
                         "ben,Ben,mentor,,given password 1\n",
                         options);
  ASSERT_TRUE(r) << r.status().to_string();
  ASSERT_TRUE(r->check.ok()) << joined(r->check.errors);
  EXPECT_TRUE(r->written);
  ASSERT_EQ(r->created.size(), 2u);
  EXPECT_EQ(r->created[0].user.username(), "ana");
  EXPECT_EQ(r->created[0].generated_password.size(), 16u);
  EXPECT_TRUE(r->created[1].generated_password.empty());
  EXPECT_EQ(progress, (std::vector<std::pair<size_t, size_t>>{{1, 2}, {2, 2}}));

  EXPECT_TRUE(h.login("ana", r->created[0].generated_password));
  EXPECT_TRUE(h.login("ben", "given password 1"));
  auto ana = h.accounts().find_user("ana");
  ASSERT_TRUE(ana);
  EXPECT_EQ(ana->time_zone(), "Europe/Berlin");
}

TEST(Roster, RoleNamesReadBack) {
  for (auto role : {v1::ROLE_MENTEE, v1::ROLE_MENTOR, v1::ROLE_PROGRAM_DIRECTOR, v1::ROLE_ADMIN}) {
    EXPECT_EQ(parse_role_name(role_name(role)), role);
  }
  EXPECT_EQ(parse_role_name("Program-Director"), v1::ROLE_PROGRAM_DIRECTOR);
  EXPECT_EQ(parse_role_name("ADMIN"), v1::ROLE_ADMIN);
  EXPECT_FALSE(parse_role_name("nurse").has_value());
  EXPECT_FALSE(parse_role_name("").has_value());
}

}  // namespace
}  // namespace preceptor::services
