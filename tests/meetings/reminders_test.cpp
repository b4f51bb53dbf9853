// Tests of the reminders service: see tests/meetings/CMakeLists.txt.
