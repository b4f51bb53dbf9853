// Tests of the calendar service: see tests/meetings/CMakeLists.txt.
