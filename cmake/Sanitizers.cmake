# MCPD_SANITIZE: build everything (libraries, the binary, its PostgreSQL module, the tests)
# with sanitizers, so that the whole suite runs checked. Values:
#   address,undefined  AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer;
#                      the suite's main build (tests/run-all, with clang)
#   thread             ThreadSanitizer, for the concurrency tests (tests/run-all builds the
#                      target tsan_tests: the tests tests/CMakeLists.txt lists as concurrency)
# Any error aborts the process (-fno-sanitize-recover=all), so a finding fails its test.
# The run-time options tests/sanitizers/ sets (suppressions, exit codes) apply through the
# environment CTest passes to every test.
set(MCPD_SANITIZE "" CACHE STRING "Sanitizers for the whole build: address,undefined | thread")
if(MCPD_SANITIZE)
  if(NOT MCPD_SANITIZE MATCHES "^(address,undefined|address|undefined|thread)$")
    message(FATAL_ERROR "MCPD_SANITIZE: '${MCPD_SANITIZE}' is not address,undefined or thread")
  endif()
  set(mcpd_sanitize_flags -fsanitize=${MCPD_SANITIZE} -fno-sanitize-recover=all
                          -fno-omit-frame-pointer)
  add_compile_options(${mcpd_sanitize_flags})
  add_link_options(${mcpd_sanitize_flags})
  if(NOT CMAKE_BUILD_TYPE STREQUAL "Release")
    # Unoptimised sanitized code is slow; -O1 keeps stacks exact enough and the suite fast.
    add_compile_options(-O1)
  endif()
endif()

# The run-time defaults (tests/sanitizers/defaults.cpp), linked into every executable with
# mcpd_use_sanitizer_defaults(TARGET): mcpd and the test programs.
if(MCPD_SANITIZE)
  add_library(mcpd_sanitizer_defaults OBJECT ${PROJECT_SOURCE_DIR}/tests/sanitizers/defaults.cpp)
endif()
function(mcpd_use_sanitizer_defaults target)
  if(TARGET mcpd_sanitizer_defaults)
    target_link_libraries(${target} PRIVATE mcpd_sanitizer_defaults)
  endif()
endfunction()
