// The Catch2 main of sanitizer builds (tests/CMakeLists.txt says why).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
