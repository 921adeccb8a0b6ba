# MCPD_FUZZ: the libFuzzer targets of tests/fuzz (clang only). Everything compiled in this
# build is instrumented for coverage-guided fuzzing (-fsanitize=fuzzer-no-link; outside a fuzz
# target the instrumentation is inert) and checked by AddressSanitizer and
# UndefinedBehaviorSanitizer (MCPD_SANITIZE defaults to address,undefined here); undefined
# behaviour aborts, so libFuzzer reports it as a crash. Only the fuzz targets get libFuzzer's
# main (-fsanitize=fuzzer, in tests/fuzz/CMakeLists.txt). The suite's main build
# (tests/run-all) is such a build, tests and coverage included, so the same objects are
# tested, measured and fuzzed.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "MCPD_FUZZ needs clang (configure with CC=clang CXX=clang++)")
endif()
if(NOT MCPD_SANITIZE MATCHES "address")
  message(FATAL_ERROR "MCPD_FUZZ needs MCPD_SANITIZE=address,undefined")
endif()
add_compile_options(-fsanitize=fuzzer-no-link -gline-tables-only)
