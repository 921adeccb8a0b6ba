# MCPD_FUZZ: a build for the libFuzzer targets of tests/fuzz (clang only), in its own build
# directory (tests/fuzz/run uses build/fuzz). Everything compiled here is instrumented for
# coverage-guided fuzzing and checked by AddressSanitizer and UndefinedBehaviorSanitizer;
# undefined behaviour aborts, so libFuzzer reports it as a crash. Only the fuzz targets get
# libFuzzer's main (-fsanitize=fuzzer, in tests/fuzz/CMakeLists.txt). Configure it as a Debug
# build, so that assertions stay on; it is optimised (-O1) all the same, for speed.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "MCPD_FUZZ needs clang (configure with CC=clang CXX=clang++)")
endif()
if(MCPD_COVERAGE)
  message(FATAL_ERROR "MCPD_FUZZ and MCPD_COVERAGE do not go together")
endif()

set(mcpd_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all)
add_compile_options(-fsanitize=fuzzer-no-link ${mcpd_sanitizers} -fno-omit-frame-pointer
                    -O1 -gline-tables-only)
add_link_options(${mcpd_sanitizers})
