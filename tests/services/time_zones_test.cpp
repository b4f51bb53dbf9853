#include "server/services/time_zones.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/services/services_test_util.h"

namespace preceptor::services {
namespace {

namespace fs = std::filesystem;

const char* const kUnknown =
    "' is not a known IANA time zone name; use one such as Europe/Berlin, America/New_York or UTC.";

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// A small zoneinfo folder: two zone files, a link, and the text files tzdata ships beside them.
class TimeZones : public ::testing::Test {
 protected:
  TimeZones() : zoneinfo_(dir_.path() / "zoneinfo") {
    write_file(zoneinfo_ / "Europe" / "Berlin", std::string("TZif2\0\0\0", 8));
    write_file(zoneinfo_ / "America" / "New_York", std::string("TZif3\0\0\0", 8));
    fs::create_symlink("../Europe/Berlin", zoneinfo_ / "America" / "Linked");
    write_file(zoneinfo_ / "zone.tab", "# tzdata zone table\n");
    write_file(zoneinfo_ / "Empty", "");
    write_file(dir_.path() / "Outside", std::string("TZif2\0\0\0", 8));  // a zone file beside, not inside
  }

  void expect_unknown(const std::string& tz) {
    Status st = check_time_zone(tz, zoneinfo_);
    ASSERT_FALSE(st) << tz;
    EXPECT_EQ(st.code(), v1::ERROR_CODE_INVALID_ARGUMENT) << tz;
    EXPECT_EQ(st.field(), "time_zone") << tz;
    EXPECT_EQ(st.message(), "The time zone '" + tz + kUnknown) << tz;
  }

  testing::TempDir dir_;
  fs::path zoneinfo_;
};

TEST_F(TimeZones, ZoneFilesAreAccepted) {
  EXPECT_TRUE(check_time_zone("Europe/Berlin", zoneinfo_));
  EXPECT_TRUE(check_time_zone("America/New_York", zoneinfo_));
  EXPECT_TRUE(check_time_zone("America/Linked", zoneinfo_));  // links are followed
}

TEST_F(TimeZones, UtcIsAcceptedWithoutTzdata) {
  EXPECT_TRUE(check_time_zone("UTC", dir_.path() / "no such folder"));
}

TEST_F(TimeZones, MissingZoneSaysHowToNameOne) {
  Status st = check_time_zone("", zoneinfo_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.field(), "time_zone");
  EXPECT_EQ(st.message(), "The time zone is missing; use an IANA name such as Europe/Berlin or UTC.");
}

TEST_F(TimeZones, UnknownNamesAndFilesThatAreNotZonesAreRefused) {
  expect_unknown("Mars/Olympus_Mons");
  expect_unknown("europe/berlin");  // names are case-sensitive, as in tzdata
  expect_unknown("zone.tab");       // a file, but not a zone
  expect_unknown("Empty");
  expect_unknown("Europe");  // a folder
  expect_unknown("CET");     // not in this folder
}

TEST_F(TimeZones, NamesThatLeaveTheFolderAreRefused) {
  expect_unknown("../Outside");
  expect_unknown("Europe/../../Outside");
  expect_unknown("Europe/../Europe/Berlin");
  expect_unknown("./Europe/Berlin");
  expect_unknown("/etc/localtime");
  expect_unknown((zoneinfo_ / "Europe" / "Berlin").string());  // absolute, even when inside
  expect_unknown("Europe//Berlin");
  expect_unknown("Europe/Berlin/");
}

TEST_F(TimeZones, OddCharactersAndOverlongNamesAreRefused) {
  expect_unknown("Europe/Berlin ");
  expect_unknown("Europe/Berlin;ls");
  expect_unknown("Europe\\Berlin");
  expect_unknown("Europe/Berl\xC3\xADn");
  expect_unknown("Europe/" + std::string(94, 'x'));  // 101 characters
}

TEST(SystemTimeZones, TzdataNamesAreAccepted) {
  if (!std::filesystem::is_directory(kZoneInfoDir)) GTEST_SKIP() << "tzdata is not installed";
  EXPECT_TRUE(check_time_zone("Europe/Berlin"));
  EXPECT_TRUE(check_time_zone("America/New_York"));
  EXPECT_TRUE(check_time_zone("Asia/Kolkata"));
  EXPECT_FALSE(check_time_zone("zone.tab"));
  EXPECT_FALSE(check_time_zone("Mars/Olympus_Mons"));
}

}  // namespace
}  // namespace preceptor::services
