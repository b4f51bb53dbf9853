#include "server/services/text_checks.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace preceptor::services {
namespace {

TEST(TextChecks, RequiredTextThatIsEmptyOrBlankIsMissing) {
  for (const std::string& value : {std::string(), std::string("   "), std::string(" \t ")}) {
    Status st = check_text(value, "display_name", "display name", true);
    ASSERT_FALSE(st) << '"' << value << '"';
    EXPECT_EQ(st.code(), v1::ERROR_CODE_INVALID_ARGUMENT);
    EXPECT_EQ(st.field(), "display_name");
    EXPECT_EQ(st.message(), "The display name is missing.");
  }
  EXPECT_TRUE(check_text("", "specialty", "specialty", false));  // optional: empty is fine
}

TEST(TextChecks, TextLongerThan200BytesIsRefusedWithItsLength) {
  EXPECT_TRUE(check_text(std::string(200, 'a'), "specialty", "specialty", false));
  Status st = check_text(std::string(201, 'a'), "specialty", "specialty", false);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.field(), "specialty");
  EXPECT_EQ(st.message(), "The specialty is too long (201 bytes; at most 200).");
  // Bytes, not characters: 101 two-byte characters are 202 bytes.
  std::string accents;
  for (int i = 0; i < 101; ++i) accents += "\xC3\xA9";
  EXPECT_EQ(check_text(accents, "specialty", "specialty", false).message(),
            "The specialty is too long (202 bytes; at most 200).");
}

TEST(TextChecks, BrokenUtf8IsRefused) {
  const std::vector<std::string> broken = {
      "\xC3",              // sequence cut short
      "caf\xC3(",          // continuation byte missing
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong, three bytes
      "\xED\xA0\x80",      // UTF-16 surrogate
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xFF",              // never valid
      "\x80",              // lone continuation byte
  };
  for (const std::string& value : broken) {
    Status st = check_text(value, "training_level", "training level", false);
    ASSERT_FALSE(st) << value;
    EXPECT_EQ(st.field(), "training_level");
    EXPECT_EQ(st.message(), "The training level is not valid UTF-8 text.");
  }
}

TEST(TextChecks, ValidUtf8InEveryLengthIsAccepted) {
  EXPECT_TRUE(check_text("Zo\xC3\xAB \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 Dr. M\xC3\xBCller",
                         "display_name", "display name", true));
  EXPECT_TRUE(valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  EXPECT_TRUE(valid_utf8(std::string("nul\0inside", 10)));
}

TEST(TextChecks, ControlCharactersAreRefusedAsNotOneLine) {
  for (const std::string& value : {std::string("two\nlines"), std::string("tab\there"), std::string("bell\a"),
                                   std::string("del\x7F"), std::string("cr\r")}) {
    Status st = check_text(value, "display_name", "display name", true);
    ASSERT_FALSE(st) << value;
    EXPECT_EQ(st.field(), "display_name");
    EXPECT_EQ(st.message(), "The display name must be a single line without control characters.");
  }
}

TEST(TextChecks, UsernamesAreThreeToSixtyFourOfLettersDigitsAndDotUnderscoreDashAt) {
  for (const std::string& name : {std::string("abc"), std::string("dr.lee"), std::string("Wei_Chen-2"),
                                  std::string("ines@hospital.org"), std::string(64, 'x')}) {
    EXPECT_TRUE(valid_username(name)) << name;
  }
  for (const std::string& name :
       {std::string(), std::string("ab"), std::string(65, 'x'), std::string("has space"),
        std::string("J\xC3\xBCrgen"), std::string("semi;colon"), std::string("slash/")}) {
    EXPECT_FALSE(valid_username(name)) << name;
  }
}

TEST(TextChecks, PasswordsAreTenTo1024Bytes) {
  EXPECT_TRUE(check_password_length(std::string(10, 'p')));
  EXPECT_TRUE(check_password_length(std::string(1024, 'p')));
  Status short_one = check_password_length("too short");
  ASSERT_FALSE(short_one);
  EXPECT_EQ(short_one.code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(short_one.field(), "password");
  EXPECT_EQ(short_one.message(), "The password must be 10 to 1024 bytes long (this one has 9).");
  EXPECT_EQ(check_password_length(std::string(1025, 'p')).message(),
            "The password must be 10 to 1024 bytes long (this one has 1025).");
}

TEST(TextChecks, TruncationNeverSplitsACharacter) {
  std::string accents;
  for (int i = 0; i < 60; ++i) accents += "\xC3\xA9";  // 120 bytes
  EXPECT_EQ(truncate_utf8(accents, 100).size(), 100u);
  EXPECT_EQ(truncate_utf8(accents, 101).size(), 100u);  // not in the middle of the 51st
  EXPECT_TRUE(valid_utf8(truncate_utf8(accents, 101)));
  EXPECT_EQ(truncate_utf8("short", 100), "short");
}

}  // namespace
}  // namespace preceptor::services
