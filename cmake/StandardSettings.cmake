# INTERFACE targets carrying the project's compiler settings (after ccache's standard_settings).
add_library(mcpd_settings INTERFACE)
target_compile_features(mcpd_settings INTERFACE cxx_std_20)
target_compile_definitions(mcpd_settings INTERFACE MCPD_VERSION="${PROJECT_VERSION}")
target_include_directories(mcpd_settings INTERFACE ${PROJECT_SOURCE_DIR})

add_library(mcpd_warnings INTERFACE)
target_compile_options(mcpd_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                               -Wcast-align -Wunused -Woverloaded-virtual)

# Coverage instrumentation for the libraries (not for tests or the CLI entry point).
add_library(mcpd_coverage INTERFACE)
if(MCPD_COVERAGE)
  target_compile_options(mcpd_coverage INTERFACE --coverage -O0)
  target_link_options(mcpd_coverage INTERFACE --coverage)
endif()

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()
