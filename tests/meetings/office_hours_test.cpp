// Tests of the office hours service: see tests/meetings/CMakeLists.txt.
