// Tests of the meetings service: see tests/meetings/CMakeLists.txt.
