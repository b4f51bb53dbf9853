// Tests of the calls service: see tests/meetings/CMakeLists.txt.
